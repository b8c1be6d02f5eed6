"""Test helper: consistent synthetic reports of one agency over 2019–2022, as parser records and frames.

Every rule holds in the series as built (R1–R5 within each report, X1 across every pair of years, X2 from 2019
to 2020, X3 from 2021 to 2022, X4 between the narrative and the tables); tests corrupt cells of a copy and check
which rules fire.  Truth: {"active_disclosure": {(item, metric): value}, "applications": {(row, applicant): value},
"appeals": {(proceeding, outcome): value}, "sections": {number: text}, "meta": {...}}; a cell value may be a
``Cell`` to print it blank, ambiguous or unreadable.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from govreports.frames import records_to_frames
from govreports.parser.tables import CELL_KEYS
from govreports.spec import load_spec

SPEC = load_spec()
APPLICANTS = tuple(SPEC.applicants)
PARTS = APPLICANTS[:-1]
OUTCOMES = tuple(SPEC.outcomes)
YEARS = (2019, 2020, 2021, 2022)
AGENCY = "莆田市合成数据局"
_NOT_OUTCOMES = {"new_received", "carried_over", "total_processed", "carried_forward"}


@dataclass(frozen=True)
class Cell:
    """A cell printed other than as its number: blank (raw ""), ambiguous, or unreadable text."""

    value: float | None
    raw: str | None
    ambiguous: bool = False


BLANK = Cell(None, "")
AMBIGUOUS = Cell(None, None, ambiguous=True)


def template_of(year: int) -> str:
    return "2019" if year <= 2020 else "2021"


def report_id(agency: str, year: int) -> str:
    return hashlib.sha256(f"{agency}:{year}".encode()).hexdigest()[:32]


def _row(values: list[int]) -> list[int]:
    return [*values, sum(values)]


def series(agency: str = AGENCY, years: tuple[int, ...] = YEARS) -> dict[int, dict[str, Any]]:
    """Truth for one agency over ``years`` with every rule holding."""
    out: dict[int, dict[str, Any]] = {}
    carried_forward = [0] * 6
    counts = {"administrative_licensing": 30, "other_external_services": 12, "administrative_penalty": 40,
              "administrative_enforcement": 8, "administrative_fees": 5}
    change = {"administrative_licensing": 2, "other_external_services": -1, "administrative_penalty": 0,
              "administrative_enforcement": 3, "administrative_fees": 0}
    in_force: dict[str, int] = {}
    for y, year in enumerate(years):
        template = template_of(year)
        rows = [r.code for r in SPEC.rows_for(template)]
        outcome = {row: [0] * 6 for row in rows if row not in _NOT_OUTCOMES}
        outcome["granted"] = [5 + y, 1, 0, 0, 0, 0]
        outcome["partially_granted"] = [2, 0, 0, 0, 1, 0]
        outcome["unavailable_not_held"] = [1, 0, 0, 0, 0, 0]
        outcome["other_processing" if template == "2019" else "other_other"] = [0, 0, 0, 0, 0, 1]
        processed = [sum(v[j] for v in outcome.values()) for j in range(6)]
        carried_over = carried_forward
        carried_forward = [y % 2 + 1, 0, 0, 1, 0, 0]
        new = [p + f - c for p, f, c in zip(processed, carried_forward, carried_over, strict=True)]
        assert min(new) >= 0
        apps: dict[tuple[str, str], Any] = {}
        table = {"new_received": new, "carried_over": carried_over, **outcome, "total_processed": processed,
                 "carried_forward": carried_forward}
        for row in rows:
            for applicant, value in zip(APPLICANTS, _row(table[row]), strict=True):
                apps[(row, applicant)] = value
        appeals = {}
        for proceeding, parts in zip(SPEC.proceedings, ([1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]), strict=True):
            for outcome_code, value in zip(OUTCOMES, _row(parts), strict=True):
                appeals[(proceeding, outcome_code)] = value
        active: dict[tuple[str, str], Any] = {}
        for block in SPEC.blocks(template):
            for item in block.items:
                for metric in block.metrics:
                    active[(item, metric)] = _active_value(item, metric, y, counts, change, in_force)
        for item in counts:  # 2019 items roll forward: next year's 上一年项目数量 = count + change
            counts[item] += change[item]
        out[year] = {
            "meta": {"agency": agency, "report_year": year, "template": template},
            "active_disclosure": active, "applications": apps, "appeals": appeals,
            "sections": {
                1: f"本年度共收到政府信息公开申请{apps[('new_received', 'total')]}件，均已按期答复。",
                2: "主动公开政府信息情况见下表。",
                3: "收到和处理政府信息公开申请情况见下表。",
                4: f"本年度发生政府信息公开行政复议{appeals[('administrative_review', 'total')]}件。",
                5: "公开意识有待提高。",
                6: "无。",
            },
        }
    return out


def _active_value(item: str, metric: str, y: int, counts: dict[str, int], change: dict[str, int],
                  in_force: dict[str, int]) -> float:
    if metric == "previous_year_count":
        return counts[item]
    if metric == "change":
        return change[item]
    if metric in ("issued", "repealed", "in_force"):
        issued, repealed = 2 + y, 1
        if metric == "in_force":
            before = in_force.get(item)
            in_force[item] = 20 if before is None else before + issued - repealed
            return in_force[item]
        return issued if metric == "issued" else repealed
    if metric in ("procurement_amount", "fee_amount"):
        return 12.5
    return {"new_made": 3, "new_published": 3, "total_published": 40, "decisions": 100,
            "procurement_count": 4}[metric]


def _cell(value: Any) -> tuple[float | None, str | None, bool]:
    if isinstance(value, Cell):
        return value.value, value.raw, value.ambiguous
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return value, text, False


def to_record(truth: dict[str, Any]) -> dict[str, Any]:
    meta = truth["meta"]
    rid = report_id(meta["agency"], meta["report_year"])
    record: dict[str, Any] = {
        "report_id": rid, "status": "parsed", "reason": None, "parser_version": "test",
        "source": {"path": f"synthetic/{rid}.txt", "sha256": hashlib.sha256(rid.encode()).hexdigest(),
                   "bytes": 1000, "format": "text", "encoding": "utf-8"},
        "metadata": {**meta, "published_on": f"{meta['report_year'] + 1}-01-15", "index_number": None,
                     "title": f"{meta['agency']}{meta['report_year']}年政府信息公开工作年度报告"},
        "active_disclosure": [], "applications": [], "appeals": [], "findings": [],
        "sections": [{"number": n, "title": SPEC.sections[n - 1].zh, "text": text}
                     for n, text in truth["sections"].items()],
    }
    for (item, metric), value in truth["active_disclosure"].items():
        v, raw, ambiguous = _cell(value)
        unit = "万元" if SPEC.metrics[metric].kind == "amount" else None
        record["active_disclosure"].append({"item": item, "metric": metric, "value": v, "raw": raw, "unit": unit,
                                            "line": 10, "ambiguous": ambiguous})
    for (row, applicant), value in truth["applications"].items():
        v, raw, ambiguous = _cell(value)
        record["applications"].append({"row": row, "applicant": applicant, "value": v, "raw": raw, "line": 20,
                                       "ambiguous": ambiguous})
    for (proceeding, outcome), value in truth["appeals"].items():
        v, raw, ambiguous = _cell(value)
        record["appeals"].append({"proceeding": proceeding, "outcome": outcome, "value": v, "raw": raw,
                                  "line": 30, "ambiguous": ambiguous})
    return record


def parsed_cells(truth: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The same cells as the parser hands to ``govreports.rules.check_report``."""
    out: dict[str, list[dict[str, Any]]] = {"active_disclosure": [], "applications": [], "appeals": []}
    for table in out:
        first, second = CELL_KEYS[table]
        for (key, column), value in truth[table].items():
            v, raw, ambiguous = _cell(value)
            cell = {first: key, second: column, "value": v, "raw": raw, "line": None}
            if ambiguous:
                cell["ambiguous"] = True
            out[table].append(cell)
    return out


def frames_of(truths: dict[int, dict[str, Any]] | list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    values = truths.values() if isinstance(truths, dict) else truths
    return records_to_frames([to_record(t) for t in values])


def corrupted(truths: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return copy.deepcopy(truths)
