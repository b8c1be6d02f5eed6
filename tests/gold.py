"""Compare a parsed record with a hand-written gold file (tests/fixtures/gold/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
GOLD_DIR = FIXTURES / "gold"
CORPUS = FIXTURES / "corpus"
APPLICANTS = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_organization",
              "legal_service_organization", "other_organization", "total"]
OUTCOMES = ["upheld", "corrected", "other", "pending", "total"]


def gold_files() -> list[Path]:
    return sorted(GOLD_DIR.glob("*.json"))


def load_gold(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell_value(cell: dict[str, Any]) -> Any:
    if cell.get("ambiguous"):
        return "?"
    return cell["value"]


def _cell_matches(expected: Any, cell: dict[str, Any] | None) -> bool:
    """A printed blank (gold null) that the report's own arithmetic proves zero is published as 0 with a
    ``blank_as_zero`` finding (CONTRACT.md); raw stays ""."""
    if cell is None:
        return False
    if expected is None and cell.get("raw") == "" and cell.get("value") == 0:
        return True
    return _same(expected, _cell_value(cell))


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return abs(expected - actual) < 1e-6
    return expected == actual


def compare(gold: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """Human-readable differences; empty when the record matches the gold."""
    diffs: list[str] = []
    if gold.get("status") and gold["status"] != record["status"]:
        diffs.append(f"status: gold {gold['status']} parsed {record['status']}")
    if gold.get("reason") != record.get("reason") and gold.get("status") != "parsed":
        diffs.append(f"reason: gold {gold.get('reason')} parsed {record.get('reason')}")
    meta = record.get("metadata") or {}
    for key, expected in (gold.get("metadata") or {}).items():
        if meta.get(key) != expected:
            diffs.append(f"metadata.{key}: gold {expected!r} parsed {meta.get(key)!r}")
    active = {(c["item"], c["metric"]): c for c in record.get("active_disclosure", [])}
    for item, metrics in (gold.get("active_disclosure") or {}).items():
        for metric, expected in metrics.items():
            cell = active.pop((item, metric), None)
            actual = "<absent>" if cell is None else _cell_value(cell)
            if not _cell_matches(expected, cell):
                diffs.append(f"active_disclosure {item}.{metric}: gold {expected!r} parsed {actual!r}")
    for key in active:
        diffs.append(f"active_disclosure {key[0]}.{key[1]}: parsed but not in gold")
    apps = {(c["row"], c["applicant"]): c for c in record.get("applications", [])}
    for row, values in (gold.get("applications") or {}).items():
        for applicant, expected in zip(APPLICANTS, values, strict=True):
            cell = apps.pop((row, applicant), None)
            actual = "<absent>" if cell is None else _cell_value(cell)
            if not _cell_matches(expected, cell):
                diffs.append(f"applications {row}.{applicant}: gold {expected!r} parsed {actual!r}")
    for key in apps:
        diffs.append(f"applications {key[0]}.{key[1]}: parsed but not in gold")
    appeals = {(c["proceeding"], c["outcome"]): c for c in record.get("appeals", [])}
    for proceeding, values in (gold.get("appeals") or {}).items():
        for outcome, expected in zip(OUTCOMES, values, strict=True):
            cell = appeals.pop((proceeding, outcome), None)
            actual = "<absent>" if cell is None else _cell_value(cell)
            if not _cell_matches(expected, cell):
                diffs.append(f"appeals {proceeding}.{outcome}: gold {expected!r} parsed {actual!r}")
    for key in appeals:
        diffs.append(f"appeals {key[0]}.{key[1]}: parsed but not in gold")
    expected_violations = {(v["rule"], v["where"]) for v in gold.get("violations", [])}
    actual_violations = set()
    for finding in record.get("findings", []):
        if finding["rule"] in ("R1", "R2", "R3", "R4"):
            cells = finding["cells"]
            parts = cells[0].split(":")
            where = parts[1] if finding["rule"] in ("R3", "R4") else parts[2]
            actual_violations.add((finding["rule"], where))
    for missing in sorted(expected_violations - actual_violations):
        diffs.append(f"violation not found: {missing}")
    for extra in sorted(actual_violations - expected_violations):
        diffs.append(f"violation reported but not in gold: {extra}")
    return diffs
