"""The code lists published beside the tables: one small table per coded column (items, metrics, application
rows, applicants, proceedings, outcomes, finding codes), with Chinese and English titles.

What belongs here: the column models of the code-list tables (expressed with the same ``Table``/``Column``
classes as ``govreports.columns``, so one generator makes every Table Schema) and their rows, read from the
template spec.  What does not: the codes themselves (``govreports/spec/templates.yaml`` is their only home) or
the schemas of the report tables (``govreports.columns``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from govreports.columns import Column, Table
from govreports.spec import Code, Spec, load_spec

# code list resource -> (Spec attribute, English title, Chinese title, the report-table column it codes)
_CODE_LISTS: dict[str, tuple[str, str, str, str]] = {
    "items": ("items", "Items of table 二", "信息内容", "active_disclosure.item"),
    "metrics": ("metrics", "Metrics of table 二", "指标", "active_disclosure.metric"),
    "application_rows": ("application_rows", "Rows of table 三", "行", "applications.row"),
    "applicants": ("applicants", "Applicant columns of table 三", "申请人", "applications.applicant"),
    "proceedings": ("proceedings", "Proceedings of table 四", "程序", "appeals.proceeding"),
    "outcomes": ("outcomes", "Outcome columns of table 四", "结果", "appeals.outcome"),
}
FINDING_CODES = "finding_codes"
CODE_LIST_NAMES: tuple[str, ...] = (*_CODE_LISTS, FINDING_CODES)

# report-table column ("table.column") -> the code list resource that titles its codes
CODED_COLUMNS: dict[str, str] = {
    **{coded: name for name, (_attr, _en, _zh, coded) in _CODE_LISTS.items()},
    "findings.rule": FINDING_CODES,
}


def _code_columns() -> tuple[Column, ...]:
    return (
        Column("code", "string", "stable code (never renamed or reused)", "代码", required=True),
        Column("title_zh", "string", "Chinese label as printed in the national template", "中文名称", required=True),
        Column("title_en", "string", "English title", "英文名称", required=True),
        Column("position", "integer", "order in the template", "顺序", required=True, minimum=0),
        Column("variants", "string", "other printed labels recognised by the parser, separated by '|'", "其他写法"),
        Column("kind", "string", "value kind (count | signed_count | amount)", "数值类型"),
        Column("number", "string", "row number as printed (一、（一）1.)", "序号"),
        Column("group", "string", "printed parent label", "上级标题"),
        Column("template_versions", "string", "template versions that have this code, separated by ' '", "模板版本"),
    )


@cache
def code_list_tables() -> dict[str, Table]:
    """Column models of the code-list resources."""
    tables = {
        name: Table(name, en, zh, f"code list of {coded}: code, Chinese and English titles", _code_columns(),
                    ("code",), sort_by=("position",))
        for name, (_attr, en, zh, coded) in _CODE_LISTS.items()
    }
    tables[FINDING_CODES] = Table(
        FINDING_CODES, "Rule ids and parser finding codes", "问题代码",
        "code list of findings.rule: the report rules (R1-R5, X1-X4) and the parser's own finding codes",
        (
            Column("code", "string", "rule id or parser finding code", "代码", required=True),
            Column("title_zh", "string", "Chinese statement of the rule, where the template gives one", "中文说明"),
            Column("title_en", "string", "what the rule checks or what the finding means", "英文说明", required=True),
            Column("position", "integer", "order in the spec", "顺序", required=True, minimum=0),
            Column("source", "string", "rule | parser", "来源", required=True, enum=("rule", "parser")),
            Column("severity", "string", "error | warning | info", "严重程度", required=True,
                   enum=("error", "warning", "info")),
            Column("kind", "string", "hard | soft | parser", "类型"),
            Column("scope", "string", "report | cross_year", "范围"),
        ),
        ("code",),
        sort_by=("position",),
    )
    return tables


def _code_row(position: int, code: Code) -> dict[str, Any]:
    return {
        "code": code.code, "title_zh": code.zh, "title_en": code.en, "position": position,
        "variants": "|".join(code.variants) or None, "kind": code.kind, "number": code.number, "group": code.group,
        "template_versions": " ".join(code.versions) or None,
    }


def code_list_rows(spec: Spec | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows of every code list, read from the template spec."""
    spec = spec or load_spec()
    out: dict[str, list[dict[str, Any]]] = {}
    for name, (attr, _en, _zh, _coded) in _CODE_LISTS.items():
        codes: dict[str, Code] = getattr(spec, attr)
        out[name] = [_code_row(position, code) for position, code in enumerate(codes.values())]
    findings = []
    for source, rules in (("rule", spec.rules), ("parser", spec.parser_findings)):
        for rule in rules.values():
            findings.append({
                "code": rule.rule_id, "title_zh": rule.zh, "title_en": rule.en, "position": len(findings),
                "source": source, "severity": rule.severity, "kind": rule.kind,
                "scope": rule.scope if source == "rule" else None,
            })
    out[FINDING_CODES] = findings
    return out
