"""The template spec: a typed view of ``templates.yaml``, the one source of truth for tables, codes,
labels, kinds and rules.

What belongs here: loading and querying the spec.  What does not: parsing reports (``govreports.parser``)
or generating schemas for a particular library (``govreports.schemas``, ``datapackage/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

TEMPLATE_VERSIONS = ("2019", "2021")


@dataclass(frozen=True)
class Code:
    """One coded thing (item, metric, row, column, …) with its labels."""

    code: str
    zh: str
    en: str
    variants: tuple[str, ...] = ()
    kind: str = "count"
    number: str | None = None
    group: str | None = None
    short: str | None = None
    versions: tuple[str, ...] = TEMPLATE_VERSIONS

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.zh, *self.variants)


@dataclass(frozen=True)
class Block:
    """A 第二十条 block of table 二 in one template version."""

    code: str
    marker: str
    items: tuple[str, ...]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    kind: str
    scope: str
    en: str
    zh: str | None = None


@dataclass(frozen=True)
class Section:
    number: int
    zh: str
    en: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    raw: dict[str, Any] = field(repr=False)
    items: dict[str, Code]
    metrics: dict[str, Code]
    applicants: dict[str, Code]
    application_rows: dict[str, Code]
    proceedings: dict[str, Code]
    outcomes: dict[str, Code]
    sections: tuple[Section, ...]
    rules: dict[str, Rule]
    parser_findings: dict[str, Rule]
    kinds: dict[str, dict[str, Any]]

    def blocks(self, version: str) -> list[Block]:
        out = []
        for block in self.raw["tables"]["active_disclosure"]["blocks"]:
            layout = block["versions"].get(version)
            if layout:
                out.append(Block(block["code"], block["marker"], tuple(layout["items"]), tuple(layout["metrics"])))
        return out

    def rows_for(self, version: str) -> list[Code]:
        return [row for row in self.application_rows.values() if version in row.versions]

    def table_title(self, table: str) -> dict[str, str]:
        return self.raw["tables"][table]["title"]

    def severity(self, finding: str) -> str:
        rule = self.rules.get(finding) or self.parser_findings.get(finding)
        return rule.severity if rule else "warning"

    def finding_codes(self) -> list[str]:
        return [*self.rules, *self.parser_findings]


def _codes(mapping: dict[str, Any], default_kind: str = "count") -> dict[str, Code]:
    out = {}
    for code, entry in mapping.items():
        out[code] = Code(
            code=code,
            zh=entry["zh"],
            en=entry["en"],
            variants=tuple(entry.get("variants", ())),
            kind=entry.get("kind", default_kind),
            number=entry.get("number"),
            group=entry.get("group"),
            short=entry.get("short"),
            versions=tuple(entry.get("versions", TEMPLATE_VERSIONS)),
        )
    return out


def _rules(mapping: dict[str, Any]) -> dict[str, Rule]:
    return {
        rule_id: Rule(rule_id, e["severity"], e.get("kind", "parser"), e.get("scope", "report"), e["en"], e.get("zh"))
        for rule_id, e in mapping.items()
    }


@cache
def load_spec() -> Spec:
    text = resources.files(__package__).joinpath("templates.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    tables = raw["tables"]
    return Spec(
        raw=raw,
        items=_codes(tables["active_disclosure"]["items"]),
        metrics=_codes(tables["active_disclosure"]["metrics"]),
        applicants=_codes(tables["applications"]["columns"]),
        application_rows=_codes(tables["applications"]["rows"]),
        proceedings=_codes(tables["appeals"]["proceedings"]),
        outcomes=_codes(tables["appeals"]["outcomes"]),
        sections=tuple(Section(s["number"], s["zh"], s["en"], tuple(s.get("variants", ()))) for s in raw["sections"]),
        rules=_rules(raw["rules"]),
        parser_findings=_rules(raw["parser_findings"]),
        kinds=raw["kinds"],
    )
