"""Benchmark: schema validation and every rule check over the tables of N synthetic reports.

What belongs here: generating synthetic tables directly as typed frames (vectorised; consistent arithmetic
across the three tables and across consecutive years of an agency, plus a small share of injected rule
violations, blank and ambiguous cells, and a few schema errors), timing ``govreports.validation.validate`` on
them and printing elapsed seconds, cells per second and peak RSS.  What does not: assertions (this is not a
test) or parsing text (the parser has its own benchmarks).

    .venv/bin/python benchmarks/validate_throughput.py [--reports 100000] [--seed 0]

Reports are laid out agency by agency over 2019–2022 (templates 2019, 2019, 2021, 2021), so X1 (every
year), X2 (2019→2020) and X3 (2021→2022) are all exercised within the one set of frames.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.compute as pc

from govreports.checks import APPLICANT_PARTS, OUTCOME_PARTS
from govreports.columns import build_tables
from govreports.frames import empty_frame
from govreports.spec import load_spec

SPEC = load_spec()
YEARS = (2019, 2020, 2021, 2022)
TEMPLATE_OF_YEAR = {2019: "2019", 2020: "2019", 2021: "2021", 2022: "2021"}
APPLICANTS = (*APPLICANT_PARTS, "total")
OUTCOMES = (*OUTCOME_PARTS, "total")
_NOT_OUTCOMES = ("new_received", "carried_over", "total_processed", "carried_forward")


def _strings(indices: np.ndarray, dictionary: list[str] | np.ndarray) -> pd.Series:
    """A pandas "string" column from codes into a dictionary, built in Arrow (no Python objects per row)."""
    arrow = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(list(dictionary), pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arrow.cast(pa.large_string())])))


def _ints(values: np.ndarray, null: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    mask = np.zeros(len(values), dtype=bool) if null is None else null
    return pd.arrays.IntegerArray(values.astype("int64"), mask)


@dataclass
class Layout:
    """The cells of one table in one template: parallel lists of key and column codes."""

    keys: list[str]
    columns: list[str]

    def __len__(self) -> int:
        return len(self.keys)


def _layouts(template: str) -> dict[str, Layout]:
    active = [(item, metric) for block in SPEC.blocks(template) for item in block.items for metric in block.metrics]
    apps = [(row.code, a) for row in SPEC.rows_for(template) for a in APPLICANTS]
    appeals = [(p, o) for p in SPEC.proceedings for o in OUTCOMES]
    return {name: Layout([k for k, _ in cells], [c for _, c in cells])
            for name, cells in (("active_disclosure", active), ("applications", apps), ("appeals", appeals))}


def _year_values(rng: np.random.Generator, template: str, agencies: int, state: dict[str, np.ndarray],
                 layouts: dict[str, Layout]) -> dict[str, np.ndarray]:
    """One year's cell values for every agency: matrices (agencies, cells) in layout order.  ``state`` carries
    last year's carried_forward, item counts and in-force documents (for X1–X3 consistency)."""
    rows = [r.code for r in SPEC.rows_for(template)]
    outcome_rows = [r for r in rows if r not in _NOT_OUTCOMES]
    new = rng.poisson(3, (agencies, 6)) * (rng.random((agencies, 6)) < 0.3)
    carried = state.get("carried_forward", rng.poisson(0.3, (agencies, 6)))
    total_in = new + carried
    forward = rng.binomial(total_in, 0.1)
    processed = total_in - forward
    weights = np.r_[6.0, 2.0, np.ones(len(outcome_rows) - 2)]
    outcome = rng.multinomial(processed.ravel(), weights / weights.sum()).reshape(agencies, 6, -1)
    apps = np.zeros((agencies, len(rows), 7), dtype=np.int64)
    at = {r: i for i, r in enumerate(rows)}
    apps[:, at["new_received"], :6] = new
    apps[:, at["carried_over"], :6] = carried
    apps[:, at["total_processed"], :6] = processed
    apps[:, at["carried_forward"], :6] = forward
    for j, row in enumerate(outcome_rows):
        apps[:, at[row], :6] = outcome[:, :, j]
    apps[:, :, 6] = apps[:, :, :6].sum(axis=2)
    state["carried_forward"] = forward
    appeals = np.zeros((agencies, 3, 5), dtype=np.int64)
    appeals[:, :, :4] = rng.poisson(0.2, (agencies, 3, 4))
    appeals[:, :, 4] = appeals[:, :, :4].sum(axis=2)
    active = np.zeros((agencies, len(layouts["active_disclosure"])), dtype=np.float64)
    layout = layouts["active_disclosure"]
    for i, (item, metric) in enumerate(zip(layout.keys, layout.columns, strict=True)):
        if metric == "previous_year_count":
            last = state.get(f"{item}:count")
            count = last if last is not None else rng.poisson(20, agencies)
            change = np.maximum(rng.integers(-3, 4, agencies), -count)
            state[f"{item}:count"], state[f"{item}:change"] = count + change, change
            active[:, i] = count
        elif metric == "change":
            active[:, i] = state[f"{item}:change"]
        elif metric in ("issued", "repealed", "in_force"):
            if metric == "issued":
                before = state.get(f"{item}:in_force", rng.poisson(20, agencies))
                issued = rng.poisson(3, agencies)
                repealed = rng.binomial(before, 0.1)
                state[f"{item}:in_force"] = before + issued - repealed
                state[f"{item}:issued"], state[f"{item}:repealed"] = issued, repealed
            active[:, i] = state[f"{item}:{metric}"]
        elif SPEC.metrics[metric].kind == "amount":
            active[:, i] = rng.integers(0, 10**6, agencies) / 100
        else:
            active[:, i] = rng.poisson(40, agencies)
    return {"active_disclosure": active, "applications": apps.reshape(agencies, -1),
            "appeals": appeals.reshape(agencies, -1)}


def _cell_frame(table: str, report_codes: np.ndarray, report_ids: np.ndarray, layout: Layout, values: np.ndarray,
                rng: np.random.Generator, blank_share: float, ambiguous_share: float) -> pd.DataFrame:
    n, m = values.shape
    flat = values.ravel()
    size = n * m
    key_codes = np.tile(np.arange(m), n)
    keys = np.array(layout.keys)
    columns = np.array(layout.columns)
    ambiguous = rng.random(size) < ambiguous_share
    blank = (flat == 0) & (rng.random(size) < blank_share) & ~ambiguous
    if table == "active_disclosure":
        raw = pc.cast(pa.array(flat), pa.string())
        raw = pc.replace_substring_regex(raw, r"\.0$", "")
        value = pd.arrays.FloatingArray(flat.astype("float64"), blank | ambiguous)
    else:
        raw = pc.cast(pa.array(flat.astype("int64")), pa.string())
        value = _ints(flat, blank | ambiguous)
    raw = pc.if_else(pa.array(blank), "", raw)
    raw = pc.if_else(pa.array(ambiguous), pa.scalar(None, pa.string()), raw)
    key_index, key_names = _unique_index(keys)
    column_index, column_names = _unique_index(columns)
    frame = pd.DataFrame({
        "report_id": _strings(np.repeat(report_codes, m), report_ids),
        _KEYS[table][0]: _strings(key_index[key_codes], key_names),
        _KEYS[table][1]: _strings(column_index[key_codes], column_names),
        "value": value,
        "raw": pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([raw.cast(pa.large_string())]))),
        "ambiguous": pd.arrays.BooleanArray(ambiguous, np.zeros(size, dtype=bool)),
        "line": _ints(key_codes + 40),
    })
    if table == "active_disclosure":
        unit = np.where(np.array([SPEC.metrics[c].kind == "amount" for c in layout.columns]), 1, 0)[key_codes]
        frame["unit"] = _strings(unit, ["", "万元"]).mask(unit == 0)
    return frame


_KEYS = {"active_disclosure": ("item", "metric"), "applications": ("row", "applicant"),
         "appeals": ("proceeding", "outcome")}


def _unique_index(codes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    uniques, inverse = np.unique(codes, return_inverse=True)
    return inverse, [str(u) for u in uniques]


def synthetic_frames(n_reports: int, seed: int = 0, violation_share: float = 0.005,
                     schema_errors: int = 20) -> dict[str, pd.DataFrame]:
    """Typed frames (``govreports.columns`` model) of ``n_reports`` synthetic reports."""
    rng = np.random.default_rng(seed)
    tables = build_tables()
    agencies = -(-n_reports // len(YEARS))
    ids = np.array([rng.bytes(16).hex() for _ in range(n_reports)])
    agency_of = np.arange(n_reports) // len(YEARS)
    year_of = np.array(YEARS)[np.arange(n_reports) % len(YEARS)]
    state: dict[str, np.ndarray] = {}
    parts: dict[str, list[pd.DataFrame]] = {"active_disclosure": [], "applications": [], "appeals": []}
    app_totals: list[pd.DataFrame] = []
    for year in YEARS:
        template = TEMPLATE_OF_YEAR[year]
        layouts = _layouts(template)
        values = _year_values(rng, template, agencies, state, layouts)
        reports = np.flatnonzero(year_of == year)
        present = agency_of[reports]
        values = {name: v[present] for name, v in values.items()}
        _inject(rng, values, layouts, violation_share)
        for name, layout in layouts.items():
            parts[name].append(_cell_frame(name, reports, ids, layout, values[name], rng, 0.02, 0.001))
        rows = layouts["applications"]
        new_at = rows.keys.index("new_received") * 7 + 6
        app_totals.append(pd.DataFrame({"report": reports, "new": values["applications"][:, new_at],
                                        "review": values["appeals"][:, 4]}))
    frames = {name: pd.concat(p, ignore_index=True) for name, p in parts.items()}
    totals = pd.concat(app_totals).sort_values("report")
    template = np.array([TEMPLATE_OF_YEAR[y] for y in YEARS])[np.arange(n_reports) % len(YEARS)]
    frames["reports"] = _reports(tables["reports"], ids, agency_of, year_of, template)
    frames["sections"] = _sections(rng, ids, totals, violation_share)
    frames["findings"] = _parser_findings(ids)
    frames["quarantine"] = empty_frame(tables["quarantine"])
    _schema_errors(rng, frames, schema_errors)
    return {name: frames[name] for name in ("reports", "active_disclosure", "applications", "appeals", "sections",
                                            "findings", "quarantine")}


def _inject(rng: np.random.Generator, values: dict[str, np.ndarray], layouts: dict[str, Layout],
            share: float) -> None:
    """Corrupt a small share of reports: a table-三 or table-四 cell off by one or two (R1–R4, X1, X4), a
    table-二 count made negative (R5), an item count (X2) or in-force count (X3) shifted."""
    for name in ("applications", "appeals"):
        matrix = values[name]
        hit = np.flatnonzero(rng.random(len(matrix)) < share)
        cell = rng.integers(0, matrix.shape[1], len(hit))
        matrix[hit, cell] += rng.integers(1, 3, len(hit))
    active = values["active_disclosure"]
    metrics = layouts["active_disclosure"].columns
    for metric, shift in (("decisions", None), ("previous_year_count", 5), ("in_force", 3)):
        where = [i for i, m in enumerate(metrics) if m == metric]
        if not where:
            continue
        hit = np.flatnonzero(rng.random(len(active)) < share)
        if shift is None:  # R5: a negative count
            active[hit, where[0]] = -1 - active[hit, where[0]]
        else:  # X2 / X3: the count does not follow from last year's
            active[hit, where[0]] += shift


def _reports(table, ids: np.ndarray, agency_of: np.ndarray, year_of: np.ndarray, template: np.ndarray) -> pd.DataFrame:
    n = len(ids)
    data = {column: pd.Series([None] * n, dtype="string") for column in table.column_names}
    data.update({
        "report_id": pd.Series(ids, dtype="string"),
        "status": pd.Series(np.full(n, "parsed"), dtype="string"),
        "agency": pd.Series(np.char.add("合成市第", np.char.add(agency_of.astype(str), "局")), dtype="string"),
        "report_year": pd.Series(year_of, dtype="Int64"),
        "template": pd.Series(template, dtype="string"),
        "published_on": pd.Series(pd.to_datetime(year_of.astype(str)) + pd.DateOffset(years=1)).astype(
            "datetime64[us]"),
        "source_path": pd.Series(np.char.add("synthetic/", ids), dtype="string"),
        "source_sha256": pd.Series(np.char.add(ids, ids), dtype="string"),
        "source_bytes": pd.Series(np.full(n, 12_000), dtype="Int64"),
        "source_format": pd.Series(np.full(n, "text"), dtype="string"),
        "parser_version": pd.Series(np.full(n, "synthetic"), dtype="string"),
    })
    for column in ("findings_error", "findings_warning", "findings_info"):
        data[column] = pd.Series(np.zeros(n, dtype=np.int64), dtype="Int64")
    frame = pd.DataFrame(data)[table.column_names]
    return frame.astype({c.name: t for c in table.columns
                         for t in [{"integer": "Int64", "string": "string", "date": "datetime64[us]"}.get(c.type)]
                         if t})


def _sections(rng: np.random.Generator, ids: np.ndarray, totals: pd.DataFrame, share: float) -> pd.DataFrame:
    """Six sections per report; section 1 states the requests received (a small share misstated, X4) and
    section 4 the administrative reviews."""
    n = len(ids)
    stated = totals["new"].to_numpy() + (rng.random(n) < share) * rng.integers(1, 5, n)
    texts = {
        1: np.char.add(np.char.add("本年度共收到政府信息公开申请", stated.astype(str)), "件，均已按期答复。"),
        2: np.full(n, "本年度主动公开政府信息若干条，详见下表。"),
        3: np.full(n, "收到和处理政府信息公开申请情况见下表。"),
        4: np.char.add(np.char.add("本年度因政府信息公开被申请行政复议", totals["review"].to_numpy().astype(str)), "件。"),
        5: np.full(n, "公开意识有待提高，将加强培训。"),
        6: np.full(n, "无。"),
    }
    number = np.tile(np.arange(1, 7), n)
    text = np.stack([texts[k] for k in range(1, 7)], axis=1).ravel()
    titles = np.array([s.zh for s in SPEC.sections])
    return pd.DataFrame({
        "report_id": _strings(np.repeat(np.arange(n), 6), ids),
        "number": pd.Series(number, dtype="Int64"),
        "title": pd.Series(titles[number - 1], dtype="string"),
        "text": pd.Series(text, dtype="string"),
    })


def _parser_findings(ids: np.ndarray) -> pd.DataFrame:
    """One parser finding (cells_placed_by_rule) for every tenth report."""
    chosen = ids[::10]
    n = len(chosen)
    return pd.DataFrame({
        "report_id": pd.Series(chosen, dtype="string"),
        "finding_no": pd.Series(np.zeros(n, dtype=np.int64), dtype="Int64"),
        "rule": pd.Series(np.full(n, "cells_placed_by_rule"), dtype="string"),
        "severity": pd.Series(np.full(n, "info"), dtype="string"),
        "message": pd.Series(np.full(n, "applications granted: placed by R3"), dtype="string"),
        "cells": pd.Series(np.full(n, "applications:granted:natural_person"), dtype="string"),
        "expected": pd.Series([None] * n, dtype="string"),
        "actual": pd.Series([None] * n, dtype="string"),
    })


def _schema_errors(rng: np.random.Generator, frames: dict[str, pd.DataFrame], count: int) -> None:
    """A few rows with an unknown code and a few duplicate keys (these reports get quarantined)."""
    if count <= 0:
        return
    apps = frames["applications"]
    rows = rng.choice(len(apps), size=count, replace=False)
    typo = apps.iloc[rows[: count // 2]].copy()
    typo["row"] = pd.Series(["granted_typo"] * len(typo), dtype="string", index=typo.index)
    duplicate = apps.iloc[rows[count // 2:]].copy()
    extra = pd.concat([typo, duplicate], ignore_index=True)
    frames["applications"] = pd.concat([apps, extra], ignore_index=True)


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000, help="number of synthetic reports (default 100000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from govreports.validation import validate

    started = time.perf_counter()
    frames = synthetic_frames(args.reports, args.seed)
    generated = time.perf_counter()
    cells = sum(len(frames[t]) for t in ("active_disclosure", "applications", "appeals"))
    all_cells = sum(frame.size for frame in frames.values())
    print(f"generated {args.reports:,} reports: {cells:,} table cells ({all_cells:,} values in all tables) "
          f"in {generated - started:.1f} s; RSS {psutil.Process().memory_info().rss / 2**30:.2f} GiB", flush=True)
    validated = validate(frames)
    elapsed = time.perf_counter() - generated
    findings = validated.frames["findings"]
    rule_counts = findings["rule"].value_counts()
    print(f"validated in {elapsed:.1f} s: {cells / elapsed:,.0f} table cells/s")
    print(f"failure cases: {len(validated.failure_cases):,}; quarantined reports: "
          f"{len(validated.quarantined_report_ids):,}; findings: {len(findings):,} "
          + ", ".join(f"{rule} {count:,}" for rule, count in rule_counts.items()))
    print(f"peak RSS: {peak_rss_bytes() / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
