"""The template's per-report consistency rules (R1–R5) over parsed cells, and blank cells proven zero.

What belongs here: arithmetic over one report's cells.  Cross-report and cross-year rules (X1–X3) live in
``govreports.checks``; they need several reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from govreports.parser.tables import CELL_KEYS, Cell, cell_ref
from govreports.spec import Spec, load_spec

APPLICANT_PARTS = ("natural_person", "commercial_enterprise", "research_institution", "social_welfare_organization",
                   "legal_service_organization", "other_organization")
OUTCOME_PARTS = ("upheld", "corrected", "other", "pending")
_NOT_OUTCOMES = {"new_received", "carried_over", "total_processed", "carried_forward"}


def _finding(spec: Spec, rule: str, message: str, cells: Iterable[str], expected: object, actual: object) -> dict:
    return {"rule": rule, "severity": spec.severity(rule), "message": message, "cells": list(cells),
            "expected": expected, "actual": actual}


class _Grid:
    """Cells of one table by (key, column); a missing or ambiguous cell makes a sum unknown (None)."""

    def __init__(self, table: str, cells: Iterable[Cell]) -> None:
        first, second = CELL_KEYS[table]
        self.values: dict[tuple[str, str], float | None] = {}
        values = self.values
        for cell in cells:
            values[(cell[first], cell[second])] = _known(cell)

    def get(self, key: str, column: str) -> float | None:
        return self.values.get((key, column))

    def total(self, pairs: Iterable[tuple[str, str]]) -> float | None:
        get = self.values.get
        total = 0
        for pair in pairs:
            value = get(pair)
            if value is None:
                return None
            total += value
        return total


def prove_blank_zeros(cells: list[Cell], table: str) -> list[dict]:
    """Blank cells whose row total is printed and already met by the printed cells must be zero (cells are
    non-negative): give them value 0 and say so.  Rows whose arithmetic does not close are left alone."""
    if not any(c["value"] is None and c["raw"] == "" for c in cells):
        return []
    spec = load_spec()
    first, second = CELL_KEYS[table]
    findings: list[dict] = []
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(cell[first], []).append(cell)
    for key, row in groups.items():
        total = next((c for c in row if c[second] == "total"), None)
        parts = [c for c in row if c[second] != "total"]
        if total is None or total["value"] is None or total.get("ambiguous") or any(c.get("ambiguous") for c in parts):
            continue
        blanks = [c for c in parts if c["value"] is None and c["raw"] == ""]
        printed = [c["value"] for c in parts if c["value"] is not None]
        if not blanks or len(blanks) + len(printed) != len(parts) or sum(printed) != total["value"]:
            continue
        for cell in blanks:
            cell["value"] = 0
        findings.append({"rule": "blank_as_zero", "severity": spec.severity("blank_as_zero"),
                         "message": f"{table} {key or ''}: {len(blanks)} blank cell(s) proven zero by the row total",
                         "cells": [cell_ref(table, c) for c in blanks]})
    return findings


_APPLICATION_COLUMNS = (*APPLICANT_PARTS, "total")
_COLUMN_INDEX = {column: index for index, column in enumerate(_APPLICATION_COLUMNS)}


def _known(cell: Cell) -> float | None:
    """A cell's value for arithmetic: blank and placeholder cells count as 0, ambiguous or unreadable ones are
    unknown (None)."""
    value = cell["value"]
    if cell.get("ambiguous"):
        return None
    if value is None:
        return 0 if (cell["raw"] or "").strip() in ("", "-", "/", "—") else None
    return value


def _application_rows(cells: Iterable[Cell]) -> dict[str, list[float | None]]:
    """Table 三 as row → values in ``_APPLICATION_COLUMNS`` order (None where missing or unknown)."""
    rows: dict[str, list[float | None]] = {}
    for cell in cells:
        index = _COLUMN_INDEX.get(cell["applicant"])
        if index is None:
            continue
        values = rows.get(cell["row"])
        if values is None:
            values = rows[cell["row"]] = [None] * len(_APPLICATION_COLUMNS)
        value = cell["value"]
        values[index] = _known(cell) if value is None or "ambiguous" in cell else value
    return rows


def _sum(values: Sequence[float | None]) -> float | None:
    """The sum, or None when any value is unknown."""
    return None if None in values else sum(values)  # type: ignore[arg-type]


def check_report(template: str | None, cells: dict[str, list[Cell]], spec: Spec | None = None) -> list[dict]:
    spec = spec or load_spec()
    findings: list[dict] = []
    apps = _application_rows(cells.get("applications", []))
    if apps and template in ("2019", "2021"):
        rows = [r.code for r in spec.rows_for(template)]
        outcome_rows = [r for r in rows if r not in _NOT_OUTCOMES]
        for row in rows:
            values = apps.get(row)
            if values is None:
                continue
            parts, total = _sum(values[:-1]), values[-1]
            if parts is not None and total is not None and parts != total:
                findings.append(_finding(spec, "R3", f"{row}: applicant columns sum to {parts}, 总计 printed {total}",
                                         [f"applications:{row}:{c}" for c in _APPLICATION_COLUMNS], parts, total))
        unknown_row = (None,) * len(_APPLICATION_COLUMNS)
        flow = [apps.get(r) or unknown_row for r in ("new_received", "carried_over", "total_processed", "carried_forward")]
        outcome_columns = list(zip(*(apps.get(r) or unknown_row for r in outcome_rows), strict=True))
        for index, column in enumerate(_APPLICATION_COLUMNS):
            left = _sum((flow[0][index], flow[1][index]))
            right = _sum((flow[2][index], flow[3][index]))
            if left is not None and right is not None and left != right:
                findings.append(_finding(
                    spec, "R1", f"{column}: 一+二 = {left} but 三（七）+四 = {right}",
                    [f"applications:{r}:{column}" for r in ("new_received", "carried_over", "total_processed",
                                                             "carried_forward")], left, right))
            outcomes = _sum(outcome_columns[index]) if outcome_columns else 0
            total = flow[2][index]
            if outcomes is not None and total is not None and outcomes != total:
                findings.append(_finding(spec, "R2", f"{column}: handling outcomes sum to {outcomes}, （七）总计 printed {total}",
                                         [f"applications:{r}:{column}" for r in (*outcome_rows, "total_processed")],
                                         outcomes, total))
    appeals = _Grid("appeals", cells.get("appeals", []))
    for proceeding in spec.proceedings:
        parts = appeals.total((proceeding, o) for o in OUTCOME_PARTS)
        total = appeals.get(proceeding, "total")
        if parts is not None and total is not None and parts != total:
            findings.append(_finding(spec, "R4", f"{proceeding}: outcomes sum to {parts}, 总计 printed {total}",
                                     [f"appeals:{proceeding}:{o}" for o in (*OUTCOME_PARTS, "total")], parts, total))
    for table, table_cells in cells.items():
        for cell in table_cells:
            value = cell["value"]
            if value is None or (value.__class__ is int and value >= 0):  # the common cell breaks no R5 rule
                continue
            kind = spec.metrics[cell["metric"]].kind if table == "active_disclosure" else "count"
            negative = value < 0 and kind != "signed_count"
            fractional = kind != "amount" and value != int(value)
            if negative or fractional:
                ref = cell_ref(table, cell)
                findings.append(_finding(spec, "R5", f"{ref}: {cell['raw']!r} is not a {'non-negative ' if negative else ''}"
                                         f"{'integer' if kind != 'amount' else 'amount'}", [ref],
                                         "non-negative integer" if kind != "amount" else "non-negative amount", value))
    return findings
