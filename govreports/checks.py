"""The consistency rules as vectorised checks over the tidy tables, producing rows of the ``findings`` table.

What belongs here: rule checks that run over many reports at once — the per-report rules R1–R5 (they must
agree exactly with ``govreports.rules``, which checks one parsed report), the cross-year rules X1–X3 (same
agency, consecutive years, optionally against a previous year's frames), the narrative rule X4, and the grouped
checks over a year's reports (a per-rule summary and duplicate agency+year reports).  Everything works on
whole columns (numpy arrays, pandas groupby/merge/str); nothing loops over reports in Python.

What does not: schema checks (``govreports.schemas``), the policy that decides what is quarantined
(``govreports.validation``), reading report text (``govreports.parser``).

Cell semantics (shared with ``govreports.rules``): an ambiguous cell (``ambiguous`` true) or an absent cell
makes a sum unknown, so the rule is not evaluated for that row/column; a cell with no value whose raw text is
blank or a placeholder (``""``, ``-``, ``/``, ``—``) counts as 0; any other cell without a value (unreadable
text) is unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govreports.spec import TEMPLATE_VERSIONS, Spec, load_spec

# The same parts as govreports.rules (which imports the parser, so it is not imported here): every column but
# the total, in the spec's order.
APPLICANT_PARTS = tuple(code for code in load_spec().applicants if code != "total")
OUTCOME_PARTS = tuple(code for code in load_spec().outcomes if code != "total")

RULE_ORDER = ("R1", "R2", "R3", "R4", "R5", "X1", "X2", "X3", "X4")
REPORT_RULES = ("R1", "R2", "R3", "R4", "R5")
BLANK_RAW = ("", "-", "/", "—")  # raw text of a valueless cell that counts as 0 (as in govreports.rules)
SUMMARY_COLUMNS = ("report_year", "rule", "severity", "reports", "reports_checked", "reports_violating", "share",
                   "findings")
DUPLICATE_COLUMNS = ("agency", "report_year", "report_id", "group_size", "differing_cells", "different_numbers")
DUPLICATE_RULE = "duplicate_agency_year"  # summary row name; not a finding code (the spec does not define one)
_NOT_OUTCOMES = ("new_received", "carried_over", "total_processed", "carried_forward")
_TABLE_KEYS = {"active_disclosure": ("item", "metric"), "applications": ("row", "applicant"),
               "appeals": ("proceeding", "outcome")}


# ------------------------------------------------------------------------------------------------ results
@dataclass
class CheckResult:
    """Findings rows (``findings`` columns, ``finding_no`` left null, plus a helper column ``_order``: the
    position within its rule, dropped by ``sort_findings``) and, per rule, the reports on which the rule could be
    evaluated at least once (the summary's denominators)."""

    findings: pd.DataFrame
    checked: dict[str, pd.Index] = field(default_factory=dict)

    @staticmethod
    def combine(results: Iterable[CheckResult]) -> CheckResult:
        results = list(results)
        frames = [r.findings for r in results if len(r.findings)]
        findings = pd.concat(frames, ignore_index=True) if frames else empty_findings()
        checked: dict[str, pd.Index] = {}
        for result in results:
            for rule, ids in result.checked.items():
                checked[rule] = checked[rule].union(ids) if rule in checked else ids
        return CheckResult(findings, checked)


def empty_findings() -> pd.DataFrame:
    return _findings_frame([], [], [], [], [], [], [])


def _findings_frame(report_ids: Sequence, rules: Sequence, severities: Sequence, messages: Sequence,
                    cells: Sequence, expected: Sequence, actual: Sequence, order: Sequence | None = None
                    ) -> pd.DataFrame:
    frame = pd.DataFrame({
        "report_id": pd.array(np.asarray(report_ids, dtype=object), dtype="string"),
        "finding_no": pd.array([None] * len(report_ids), dtype="Int64"),
        "rule": pd.array(np.asarray(rules, dtype=object), dtype="string"),
        "severity": pd.array(np.asarray(severities, dtype=object), dtype="string"),
        "message": pd.array(np.asarray(messages, dtype=object), dtype="string"),
        "cells": pd.array(np.asarray(cells, dtype=object), dtype="string"),
        "expected": pd.array(np.asarray(expected, dtype=object), dtype="string"),
        "actual": pd.array(np.asarray(actual, dtype=object), dtype="string"),
    })
    # Position of the finding within its rule (row/column order of the template): used for numbering only.
    frame["_order"] = np.asarray(order if order is not None else np.zeros(len(frame)), dtype="int64")
    return frame


def _number_text(values: np.ndarray) -> np.ndarray:
    """Numbers as ``govreports.rules`` prints them: integral values without a decimal point."""
    values = np.asarray(values, dtype="float64")
    out = np.empty(len(values), dtype=object)
    integral = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
    out[integral] = values[integral].astype("int64").astype(str)
    out[~integral] = [repr(float(v)) for v in values[~integral]]
    return out


def _cat(*parts: object) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars (only ever applied to violation rows)."""
    arrays = [np.asarray(p, dtype=object) for p in parts]
    out = arrays[0].astype(str).astype(object)
    for part in arrays[1:]:
        out = out + part.astype(str).astype(object)
    return out


# ---------------------------------------------------------------------------------- fast string lookups
def arrow_strings(values: pd.Series | pd.Index | Sequence[str] | np.ndarray) -> pa.Array | pa.ChunkedArray:
    """A string column as Arrow (zero-copy for pandas' Arrow-backed "string" dtype), for hash lookups in C++
    instead of pandas' object-array path (which would build one Python string per row)."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(np.asarray(values, dtype=object).astype(str))
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    return array


def index_in(values: pd.Series | pd.Index | Sequence[str], labels: pd.Index | Sequence[str]) -> np.ndarray:
    """Position of each value in ``labels`` (-1 when absent or null), like ``Index.get_indexer``."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    found = pc.index_in(arrow_strings(values), value_set=arrow_strings(labels))
    return np.asarray(pc.fill_null(found, -1), dtype=np.int64)


def is_in(values: pd.Series | pd.Index | Sequence[str], labels: pd.Index | Sequence[str] | set[str]) -> np.ndarray:
    """Membership of each value in ``labels`` (null: False), like ``Series.isin``."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    labels = list(labels) if isinstance(labels, set | frozenset) else labels
    if len(labels) == 0:
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pc.fill_null(pc.is_in(arrow_strings(values), value_set=arrow_strings(labels)), False),
                      dtype=bool)


# ----------------------------------------------------------------------------------------- cell values
def numbers(values: pd.Series) -> np.ndarray:
    """A value column as float64 (NaN for nulls); a column of the wrong type (a schema failure) is read as far
    as it goes, anything that is not a number giving NaN."""
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        values = pd.to_numeric(values.astype(object), errors="coerce")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def effective_values(frame: pd.DataFrame) -> np.ndarray:
    """The value a rule sees for each cell row: the number, 0 for a blank/placeholder cell, NaN when unknown
    (ambiguous, or unreadable text)."""
    value = numbers(frame["value"]).copy()
    missing = np.isnan(value)
    if missing.any():
        raw = frame["raw"][missing]
        blank = (raw.isna() | raw.str.strip().isin(BLANK_RAW)).to_numpy(dtype=bool, na_value=True)
        value[np.flatnonzero(missing)[blank]] = 0.0
    ambiguous = frame["ambiguous"].to_numpy(dtype=bool, na_value=False)
    value[ambiguous] = np.nan
    return value


@dataclass
class Grid:
    """One table of every report as a dense array ``values[report, key, column]`` (NaN: absent or unknown)."""

    report_ids: pd.Index
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    present: np.ndarray  # report has at least one cell in this table (any code)


def build_grid(frame: pd.DataFrame, table: str, keys: Sequence[str], columns: Sequence[str],
               report_ids: pd.Index, positions: np.ndarray | None = None) -> Grid:
    """``positions``: each row's report position in ``report_ids`` when already known (saves a lookup)."""
    key_name, column_name = _TABLE_KEYS[table]
    values = np.full((len(report_ids), len(keys), len(columns)), np.nan)
    present = np.zeros(len(report_ids), dtype=bool)
    if len(frame):
        r = index_in(frame["report_id"], report_ids) if positions is None else positions
        k = index_in(frame[key_name], list(keys))
        c = index_in(frame[column_name], list(columns))
        present[r[r >= 0]] = True
        ok = (r >= 0) & (k >= 0) & (c >= 0)
        values[r[ok], k[ok], c[ok]] = effective_values(frame)[ok]  # duplicates: the last one wins, as in rules
    return Grid(report_ids, tuple(keys), tuple(columns), values, present)


def _report_index(frames: dict[str, pd.DataFrame]) -> pd.Index:
    ids = pd.Index(frames["reports"]["report_id"].dropna().unique())
    for table in _TABLE_KEYS:
        frame = frames.get(table)
        if frame is None or not len(frame):
            continue
        dangling = frame["report_id"][~is_in(frame["report_id"], ids)].dropna().unique()
        if len(dangling):
            ids = ids.append(pd.Index(dangling))
    return ids


def _templates(frames: dict[str, pd.DataFrame], report_ids: pd.Index) -> np.ndarray:
    reports = frames["reports"].drop_duplicates("report_id", keep="last").set_index("report_id")["template"]
    return reports.reindex(report_ids).astype(object).where(lambda s: s.notna(), None).to_numpy()


def _with_rule(spec: Spec, rule: str, n: int) -> tuple[list[str], list[str]]:
    return [rule] * n, [spec.severity(rule)] * n


# ---------------------------------------------------------------------------------------- R1–R5 checks
def check_reports(frames: dict[str, pd.DataFrame], spec: Spec | None = None) -> CheckResult:
    """R1–R5 for every report in ``frames`` at once; the same findings as ``govreports.rules.check_report``."""
    spec = spec or load_spec()
    report_ids = _report_index(frames)
    templates = _templates(frames, report_ids)
    rows = tuple(spec.application_rows)
    applicants = (*APPLICANT_PARTS, "total")
    positions = {table: index_in(frames[table]["report_id"], report_ids) for table in _TABLE_KEYS}
    apps = build_grid(frames["applications"], "applications", rows, applicants, report_ids,
                      positions["applications"])
    appeals = build_grid(frames["appeals"], "appeals", tuple(spec.proceedings), (*OUTCOME_PARTS, "total"),
                         report_ids, positions["appeals"])
    results = [_r1_r2_r3(spec, apps, templates), _r4(spec, appeals), _r5(spec, frames, report_ids, positions)]
    return CheckResult.combine(results)


def _r1_r2_r3(spec: Spec, grid: Grid, templates: np.ndarray) -> CheckResult:
    v = grid.values
    rows = grid.keys
    row_at = {code: i for i, code in enumerate(rows)}
    columns = grid.columns
    out: list[pd.DataFrame] = []
    checked: dict[str, pd.Index] = {}
    evaluated = {rule: np.zeros(len(grid.report_ids), dtype=bool) for rule in ("R1", "R2", "R3")}
    for template in TEMPLATE_VERSIONS:
        sel = np.flatnonzero(grid.present & (templates == template))
        if not len(sel):
            continue
        template_rows = [r.code for r in spec.rows_for(template)]
        row_idx = np.array([row_at[r] for r in template_rows])
        outcome_rows = [r for r in template_rows if r not in _NOT_OUTCOMES]
        outcome_idx = np.array([row_at[r] for r in outcome_rows])
        sub = v[sel]
        # R3: every template row, applicant columns sum to the printed total.
        parts = sub[:, row_idx, :-1].sum(axis=2)
        total = sub[:, row_idx, -1]
        known = ~np.isnan(parts) & ~np.isnan(total)
        evaluated["R3"][sel] |= known.any(axis=1)
        ri, ki = np.nonzero(known & (parts != total))
        if len(ri):
            codes = np.array(template_rows, dtype=object)[ki]
            p, t = parts[ri, ki], total[ri, ki]
            cells_by_row = {r: ";".join(f"applications:{r}:{c}" for c in columns) for r in template_rows}
            out.append(_findings_frame(
                grid.report_ids[sel[ri]], *_with_rule(spec, "R3", len(ri)),
                _cat(codes, ": applicant columns sum to ", _number_text(p), ", 总计 printed ", _number_text(t)),
                [cells_by_row[c] for c in codes], _number_text(p), _number_text(t), order=ki))
        # R1 and R2 per applicant column.
        left = sub[:, row_at["new_received"], :] + sub[:, row_at["carried_over"], :]
        right = sub[:, row_at["total_processed"], :] + sub[:, row_at["carried_forward"], :]
        outcomes = sub[:, outcome_idx, :].sum(axis=1)
        printed = sub[:, row_at["total_processed"], :]
        names = np.array(columns, dtype=object)
        for rule, a, b in (("R1", left, right), ("R2", outcomes, printed)):
            known = ~np.isnan(a) & ~np.isnan(b)
            evaluated[rule][sel] |= known.any(axis=1)
            ri, ci = np.nonzero(known & (a != b))
            if not len(ri):
                continue
            x, y = _number_text(a[ri, ci]), _number_text(b[ri, ci])
            if rule == "R1":
                message = _cat(names[ci], ": 一+二 = ", x, " but 三（七）+四 = ", y)
                cells = {c: ";".join(f"applications:{r}:{c}" for r in _NOT_OUTCOMES) for c in columns}
            else:
                message = _cat(names[ci], ": handling outcomes sum to ", x, ", （七）总计 printed ", y)
                cells = {c: ";".join(f"applications:{r}:{c}" for r in (*outcome_rows, "total_processed"))
                         for c in columns}
            out.append(_findings_frame(grid.report_ids[sel[ri]], *_with_rule(spec, rule, len(ri)), message,
                                       [cells[c] for c in names[ci]], x, y, order=ci))
    for rule, mask in evaluated.items():
        checked[rule] = grid.report_ids[mask]
    return CheckResult(pd.concat(out, ignore_index=True) if out else empty_findings(), checked)


def _r4(spec: Spec, grid: Grid) -> CheckResult:
    parts = grid.values[:, :, :-1].sum(axis=2)
    total = grid.values[:, :, -1]
    known = ~np.isnan(parts) & ~np.isnan(total)
    ri, pi = np.nonzero(known & (parts != total))
    checked = {"R4": grid.report_ids[known.any(axis=1)]}
    if not len(ri):
        return CheckResult(empty_findings(), checked)
    names = np.array(grid.keys, dtype=object)[pi]
    cells = {p: ";".join(f"appeals:{p}:{o}" for o in grid.columns) for p in grid.keys}
    x, y = _number_text(parts[ri, pi]), _number_text(total[ri, pi])
    frame = _findings_frame(grid.report_ids[ri], *_with_rule(spec, "R4", len(ri)),
                            _cat(names, ": outcomes sum to ", x, ", 总计 printed ", y), [cells[p] for p in names],
                            x, y, order=pi)
    return CheckResult(frame, checked)


def _r5(spec: Spec, frames: dict[str, pd.DataFrame], report_ids: pd.Index,
        positions: dict[str, np.ndarray]) -> CheckResult:
    out: list[pd.DataFrame] = []
    checked = np.zeros(len(report_ids), dtype=bool)
    kinds = {code: metric.kind for code, metric in spec.metrics.items()}
    for t, table in enumerate(("active_disclosure", "applications", "appeals")):
        frame = frames[table]
        if not len(frame):
            continue
        value = numbers(frame["value"])
        has = ~np.isnan(value)
        r = positions[table]
        checked[r[has & (r >= 0)]] = True
        if table == "active_disclosure":
            kind = frame["metric"].map(kinds).fillna("count").to_numpy(dtype=object)
        else:
            kind = np.full(len(frame), "count", dtype=object)
        with np.errstate(invalid="ignore"):
            negative = has & (value < 0) & (kind != "signed_count")
            fractional = has & (kind != "amount") & (value != np.floor(value))
        bad = np.flatnonzero(negative | fractional)
        if not len(bad):
            continue
        key, column = _TABLE_KEYS[table]
        rows = frame.iloc[bad]
        neg, amount = negative[bad], kind[bad] == "amount"
        ref = _cat(table, ":", rows[key].to_numpy(dtype=object), ":", rows[column].to_numpy(dtype=object))
        raw = np.array([repr(r if isinstance(r, str) else None) for r in rows["raw"].astype(object)], dtype=object)
        message = _cat(ref, ": ", raw, " is not a ", np.where(neg, "non-negative ", ""),
                       np.where(amount, "amount", "integer"))
        expected = np.where(amount, json.dumps("non-negative amount"), json.dumps("non-negative integer"))
        out.append(_findings_frame(rows["report_id"].to_numpy(dtype=object), *_with_rule(spec, "R5", len(bad)),
                                   message, ref, expected, _number_text(value[bad]), order=t * 10**9 + bad))
    return CheckResult(pd.concat(out, ignore_index=True) if out else empty_findings(), {"R5": report_ids[checked]})


# ------------------------------------------------------------------------------------ cross-year X1–X3
def _union(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None, table: str) -> pd.DataFrame:
    if previous is None or table not in previous or not len(previous[table]):
        return frames[table]
    return pd.concat([frames[table], previous[table]], ignore_index=True)


def _report_meta(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None) -> pd.DataFrame:
    """report_id, agency code, year, template and whether the report is a current one (not only previous)."""
    current = frames["reports"][["report_id", "agency", "report_year", "template"]].assign(current=True)
    parts = [current]
    if previous is not None and "reports" in previous and len(previous["reports"]):
        parts.append(previous["reports"][["report_id", "agency", "report_year", "template"]].assign(current=False))
    meta = pd.concat(parts, ignore_index=True).dropna(subset=["report_id", "agency", "report_year"])
    meta = meta.drop_duplicates("report_id").reset_index(drop=True)
    meta["agency_code"] = pd.factorize(meta["agency"].astype(object))[0]
    meta["report_year"] = meta["report_year"].astype("int64")
    meta["template"] = meta["template"].astype(object).where(meta["template"].notna(), None)
    return meta


def _cells(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None, table: str,
           keys: Sequence[str], columns: Sequence[str], meta: pd.DataFrame) -> pd.DataFrame:
    """The cells with the given key codes, as integers: report position in ``meta`` (r), agency code, year,
    key and column positions, effective value (v)."""
    key_name, column_name = _TABLE_KEYS[table]
    parts = []
    for source in (frames, previous):
        if source is None or table not in source or not len(source[table]):
            continue
        frame = source[table]
        rows = np.flatnonzero(is_in(frame[key_name], list(keys)))
        sub = frame[["report_id", key_name, column_name, "value", "raw", "ambiguous"]].take(rows)
        parts.append(pd.DataFrame({
            "r": index_in(sub["report_id"], meta["report_id"]), "key": index_in(sub[key_name], list(keys)),
            "column": index_in(sub[column_name], list(columns)), "v": effective_values(sub)}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in ("r", "key", "column", "agency", "report_year")}
                            ).assign(v=pd.Series(dtype="float64"))
    cells = pd.concat(parts, ignore_index=True)
    cells = cells[(cells["r"] >= 0) & (cells["column"] >= 0)]
    cells = cells.drop_duplicates(["r", "key", "column"], keep="first")  # current frames first
    return cells.assign(agency=meta["agency_code"].to_numpy()[cells["r"]],
                        report_year=meta["report_year"].to_numpy()[cells["r"]]).reset_index(drop=True)


def _last_year(values: pd.DataFrame, group: Sequence[str]) -> pd.DataFrame:
    """Per (agency, year, …) the value all of that agency-year's reports agree on (NaN when they disagree or one
    is unknown) and one report it comes from (``source``), keyed for the year after (report_year + 1)."""
    agg = values.groupby(list(group), sort=False).agg(lo=("v", "min"), hi=("v", "max"), known=("v", "count"),
                                                      n=("v", "size"), source=("r", "first"))
    agg["v_prev"] = agg["lo"].where((agg["lo"] == agg["hi"]) & (agg["known"] == agg["n"]))
    out = agg[["v_prev", "source"]].reset_index()
    out["report_year"] += 1
    return out


def check_cross_year(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None = None,
                     spec: Spec | None = None, tolerance: float = 0.0) -> CheckResult:
    """X1–X3 for each report of ``frames`` whose agency has a report for the year before, in ``frames`` or in
    ``previous`` (the previous year's frames).  ``tolerance`` (relative) is how far "≈" may stray for X2/X3."""
    spec = spec or load_spec()
    meta = _report_meta(frames, previous)
    return CheckResult.combine([_x1(spec, frames, previous, meta), _x23(spec, frames, previous, meta, tolerance)])


def _x1(spec: Spec, frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None,
        meta: pd.DataFrame) -> CheckResult:
    columns = (*APPLICANT_PARTS, "total")
    cells = _cells(frames, previous, "applications", ("carried_over", "carried_forward"), columns, meta)
    last = _last_year(cells[cells["key"] == 1], ["agency", "report_year", "column"])
    this = cells[(cells["key"] == 0).to_numpy() & meta["current"].to_numpy()[cells["r"]]]
    pairs = this.merge(last, on=["agency", "report_year", "column"], how="inner")
    known = (pairs["v"].notna() & pairs["v_prev"].notna()).to_numpy()
    ids = meta["report_id"].to_numpy(dtype=object)
    checked = {"X1": pd.Index(np.unique(ids[pairs["r"].to_numpy()[known]]))}
    bad = pairs[known & (pairs["v"] != pairs["v_prev"]).to_numpy()]
    if not len(bad):
        return CheckResult(empty_findings(), checked)
    exp, act = _number_text(bad["v_prev"].to_numpy()), _number_text(bad["v"].to_numpy())
    column = np.array(columns, dtype=object)[bad["column"].to_numpy()]
    message = _cat(column, ": last year's 结转下年度继续办理 = ", exp, " (report ", ids[bad["source"].to_numpy()],
                   ") but this year's 上年结转 = ", act)
    frame = _findings_frame(ids[bad["r"].to_numpy()], *_with_rule(spec, "X1", len(bad)), message,
                            _cat("applications:carried_over:", column), exp, act, order=bad["column"].to_numpy())
    return CheckResult(frame, checked)


def _x23(spec: Spec, frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None,
         meta: pd.DataFrame, tolerance: float) -> CheckResult:
    items = tuple(spec.items)
    metrics = ("previous_year_count", "change", "issued", "repealed", "in_force")
    cells = _cells(frames, previous, "active_disclosure", items, metrics, meta)
    wide = cells.pivot(index=["r", "agency", "report_year", "key"], columns="column", values="v")
    wide = wide.reindex(columns=range(len(metrics))).set_axis(list(metrics), axis=1).reset_index()
    template = meta["template"].to_numpy(dtype=object)[wide["r"]]
    current = meta["current"].to_numpy()[wide["r"]]
    ids = meta["report_id"].to_numpy(dtype=object)
    out: list[pd.DataFrame] = []
    checked: dict[str, pd.Index] = {}
    # X2: this year's previous_year_count ≈ last year's previous_year_count + change (both 2019 format).
    # X3: this year's in_force ≈ last year's in_force + this year's issued − repealed (both 2021 format).
    for rule, version, last_value, target, cell_metrics, label in (
        ("X2", "2019", wide["previous_year_count"] + wide["change"], "previous_year_count", ("previous_year_count",),
         "上一年项目数量"),
        ("X3", "2021", wide["in_force"], "in_force", ("in_force", "issued", "repealed"), "现行有效件数"),
    ):
        in_version = template == version
        last = _last_year(wide.loc[in_version, ["r", "agency", "report_year", "key"]].assign(v=last_value[in_version]),
                          ["agency", "report_year", "key"])
        pairs = wide[in_version & current].merge(last, on=["agency", "report_year", "key"], how="inner")
        if rule == "X2":
            expected = pairs["v_prev"]
        else:
            expected = pairs["v_prev"] + pairs["issued"] - pairs["repealed"]
        actual = pairs[target]
        known = (expected.notna() & actual.notna()).to_numpy()
        checked[rule] = pd.Index(np.unique(ids[pairs["r"].to_numpy()[known]]))
        bad_mask = known & ((actual - expected).abs() > tolerance * expected.abs()).to_numpy(dtype=bool,
                                                                                             na_value=False)
        if not bad_mask.any():
            continue
        bad = pairs[bad_mask]
        exp, act = _number_text(expected[bad_mask].to_numpy()), _number_text(actual[bad_mask].to_numpy())
        item = np.array(items, dtype=object)[bad["key"].to_numpy()]
        source = ids[bad["source"].to_numpy()]
        if rule == "X2":
            message = _cat(item, f": expected {label} ", exp, " = last year's 上一年项目数量 + 本年增/减 (report ", source,
                           "), printed ", act)
        else:
            message = _cat(item, f": expected {label} ", exp, " = last year's 现行有效件数 (report ", source,
                           ") + 本年制发件数 − 本年废止件数, printed ", act)
        cell_text = np.array([";".join(f"active_disclosure:{i}:{m}" for m in cell_metrics) for i in item], dtype=object)
        out.append(_findings_frame(ids[bad["r"].to_numpy()], *_with_rule(spec, rule, len(bad)), message, cell_text,
                                   exp, act, order=bad["key"].to_numpy()))
    return CheckResult(pd.concat(out, ignore_index=True) if out else empty_findings(), checked)


# --------------------------------------------------------------------------------------------- X4 narrative
_STOP = r"，。；;！!？?：:"
_GAP = rf"[^{_STOP}\d]"
# Clear statements only.  "pre" is the clause before the statement (back to the last stop), checked for words
# that make the figure something else (another year, a running total, a subset, a different procedure);
# "stmt" is the statement quoted in the finding; "n" the figure (empty for "none received" statements: 0).
_PRE = rf"(?P<pre>[^{_STOP}]{{0,30}}?)"
_X4_PATTERNS: tuple[tuple[str, str, str], ...] = (  # target, prefilter (RE2, no lookaround), pattern
    ("applications", rf"(?:收到|接到|受理|接收){_GAP}{{0,25}}申请(?:公开)?(?:政府信息)?(?:共计|共|计|合计|总计|数量为|数为|为)?\d+",
     rf"{_PRE}(?<![未没无])(?P<stmt>(?:收到|接到|受理|接收)(?P<gap>{_GAP}{{0,25}}?)申请(?!人)(?:公开)?(?:政府信息)?"
     r"(?:共计|共|计|合计|总计|数量为|数为|为)?(?P<n>\d+)(?:件|个|宗|条|份))"),
    ("applications", "(?:未|没有|无)(?:收到|接到|受理|接收)",
     rf"{_PRE}(?P<stmt>(?:未|没有|无)(?:收到|接到|受理|接收)(?:过)?(?P<gap>{_GAP}{{0,12}}?)申请(?!人)(?P<n>))"
     rf"(?=[^{_STOP}]{{0,8}}(?:[{_STOP}]|$))"),
    ("administrative_review", r"行政复议(?:案件|申请)?(?:共计|共|计|合计)?\d+",
     rf"{_PRE}(?P<stmt>(?P<gap>)行政复议(?:案件|申请)?(?:共计|共|计|合计)?(?P<n>\d+)(?:件|起|宗|次))"),
    ("litigation", r"行政诉讼(?:案件)?(?:共计|共|计|合计)?\d+",
     rf"{_PRE}(?P<stmt>(?P<gap>)行政诉讼(?:案件)?(?:共计|共|计|合计)?(?P<n>\d+)(?:件|起|宗|次))"),
    ("both", rf"(?:未|没有|无){_GAP}{{0,24}}行政复议",
     rf"{_PRE}(?P<stmt>(?:未|没有|无)(?:发生|收到|接到|出现)?(?P<gap>{_GAP}{{0,20}}?)行政复议"
     r"(?:[、和或及与]|以及)(?:被?提起)?行政诉讼(?P<n>)(?:案件)?(?:的)?(?:情况|事项|纠纷|案件)?)"
     rf"(?=[{_STOP}]|$)"),
    ("administrative_review", rf"(?:未|没有|无){_GAP}{{0,24}}行政复议",
     rf"{_PRE}(?P<stmt>(?:未|没有|无)(?:发生|收到|接到|出现)?(?P<gap>{_GAP}{{0,20}}?)行政复议(?P<n>)"
     r"(?:案件|申请)?(?:的)?(?:情况|事项|纠纷|案件)?)"
     rf"(?=[{_STOP}]|$)"),
)
# Words that make a statement something other than "this report's total" (conservative: skip it).
_X4_SKIP_PRE = r"上年|去年|上一年|前年|同比|较|以来|累计|历年|其中|平均|月份|季度|月底|截至|截止"
_X4_SKIP_GAP = (r"上年|去年|结转|复议|诉讼|投诉|举报|信访|自然人|法人|企业|网上|网络|当面|信函|传真|邮件|邮寄|电话|"
                r"转办|办结|答复|不予|重复|纠|败诉|撤销|维持|确认")


def _normalise_text(text: pd.Series) -> pa.Array | pa.ChunkedArray:
    """NFKC (full-width digits) and no white space (figures split over lines), computed in Arrow."""
    arrow = pc.utf8_normalize(pc.fill_null(arrow_strings(text), ""), "NFKC")
    return pc.replace_substring_regex(arrow, r"\s+", "")


def narrative_statements(sections: pd.DataFrame, years: pd.Series | None = None) -> pd.DataFrame:
    """Clear narrative statements of a figure, one row per statement: report_id, section, target
    (applications | administrative_review | litigation), figure (a "none received" statement gives 0), quote."""
    columns = ["report_id", "section", "target", "figure", "quote"]
    if not len(sections):
        return pd.DataFrame(columns=columns)
    sections = sections.reset_index(drop=True)
    arrow = _normalise_text(sections["text"])
    found: list[pd.DataFrame] = []
    for target, prefilter, pattern in _X4_PATTERNS:
        # Arrow's RE2 finds the candidate texts in C++; only those go through Python's regex (lookarounds).
        rows = np.flatnonzero(np.asarray(pc.fill_null(pc.match_substring_regex(arrow, prefilter), False), dtype=bool))
        if not len(rows):
            continue
        compiled = re.compile(pattern)
        hits = pd.DataFrame(
            [(row, m["pre"], m["gap"], m["n"], m["stmt"]) for row, text in zip(
                rows, arrow.take(pa.array(rows)).to_pylist(), strict=True) for m in compiled.finditer(text)],
            columns=["row", "pre", "gap", "n", "stmt"])
        if not len(hits):
            continue
        row = hits["row"].to_numpy()
        pre, gap = hits["pre"].fillna(""), hits["gap"].fillna("")
        keep = (~pre.str.contains(_X4_SKIP_PRE, regex=True) & ~gap.str.contains(_X4_SKIP_GAP, regex=True)).to_numpy(
            dtype=bool, copy=True)
        report_ids = sections["report_id"].to_numpy(dtype=object)[row]
        if years is not None:
            # A year printed in the clause must be the report's year (otherwise it is another year's figure).
            stated = pd.to_numeric(pre.str.extract(r"((?:19|20)\d{2})年", expand=False), errors="coerce")
            year = years.reindex(report_ids).to_numpy(dtype="float64", na_value=np.nan)
            keep &= stated.isna().to_numpy() | (stated.to_numpy(dtype="float64") == year)
        figure = pd.to_numeric(hits["n"].fillna("").replace("", "0"), errors="coerce").to_numpy(dtype="float64")
        found.append(pd.DataFrame({"report_id": report_ids, "section": sections["number"].to_numpy()[row],
                                   "target": target, "figure": figure,
                                   "quote": hits["stmt"].str.slice(0, 60).to_numpy(dtype=object)})[keep])
    if not found:
        return pd.DataFrame(columns=columns)
    out = pd.concat(found, ignore_index=True)
    both = out["target"] == "both"
    if both.any():
        split = pd.concat([out[both].assign(target="administrative_review"), out[both].assign(target="litigation")])
        out = pd.concat([out[~both], split], ignore_index=True)
    return out.drop_duplicates(["report_id", "target", "figure"]).reset_index(drop=True)


def check_narrative(frames: dict[str, pd.DataFrame], spec: Spec | None = None) -> CheckResult:
    """X4: clear narrative figures ("收到政府信息公开申请N件", "行政复议N件", "未收到…申请") against the tables.

    Applications: the stated figure must equal 一、本年新收 总计, or 一+二 (some reports count the carried-over
    requests in).  Administrative review: 行政复议 总计.  Litigation: either litigation total or their sum."""
    spec = spec or load_spec()
    years = frames["reports"].drop_duplicates("report_id").set_index("report_id")["report_year"]
    statements = narrative_statements(frames["sections"], years.astype("Float64"))
    if not len(statements):
        return CheckResult(empty_findings(), {"X4": pd.Index([])})
    report_ids = pd.Index(statements["report_id"].unique())
    rows = ("new_received", "carried_over")
    apps = build_grid(frames["applications"], "applications", rows, ("total",), report_ids)
    appeals = build_grid(frames["appeals"], "appeals", tuple(spec.proceedings), ("total",), report_ids)
    r = index_in(statements["report_id"], report_ids)
    new, carried = apps.values[r, 0, 0], apps.values[r, 1, 0]
    review = appeals.values[r, 0, 0]
    direct, after = appeals.values[r, 1, 0], appeals.values[r, 2, 0]
    figure = statements["figure"].to_numpy(dtype="float64")
    target = statements["target"].to_numpy(dtype=object)
    is_app, is_review = target == "applications", target == "administrative_review"
    expected = np.where(is_app, new, np.where(is_review, review, direct + after))
    with np.errstate(invalid="ignore"):
        matches = np.where(is_app, (figure == new) | (figure == new + carried),
                           np.where(is_review, figure == review, (figure == direct) | (figure == after)
                                    | (figure == direct + after)))
    known = ~np.isnan(expected) & ~np.isnan(figure)
    checked = {"X4": pd.Index(statements.loc[known, "report_id"].unique())}
    bad = np.flatnonzero(known & ~matches)
    if not len(bad):
        return CheckResult(empty_findings(), checked)
    cell = np.where(is_app[bad], "applications:new_received:total",
                    np.where(is_review[bad], "appeals:administrative_review:total",
                             "appeals:litigation_direct:total;appeals:litigation_after_review:total"))
    exp, act = _number_text(expected[bad]), _number_text(figure[bad])
    label = np.where(is_app[bad], "本年新收 总计", np.where(is_review[bad], "行政复议 总计", "行政诉讼 总计"))
    message = _cat("section ", statements["section"].to_numpy()[bad].astype(str), " states “",
                   statements["quote"].to_numpy(dtype=object)[bad], "” (", act, ") but the table's ", label,
                   " is ", exp)
    order = np.select([is_app[bad], is_review[bad]], [0, 1], 2)
    frame = _findings_frame(statements["report_id"].to_numpy(dtype=object)[bad], *_with_rule(spec, "X4", len(bad)),
                            message, cell, exp, act, order=order)
    return CheckResult(frame, checked)


# ---------------------------------------------------------------------------------- grouped (per year)
def duplicate_reports(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Reports sharing agency and report_year, one row each.  ``differing_cells``: cells where this report's
    known value differs from another report of the group (an ambiguous or absent cell differs from nothing);
    ``different_numbers``: the group has at least one such cell."""
    reports = frames["reports"].dropna(subset=["agency", "report_year"]).drop_duplicates("report_id")
    dup = reports[reports.duplicated(["agency", "report_year"], keep=False)]
    dup = dup[["agency", "report_year", "report_id"]].sort_values(["agency", "report_year", "report_id"])
    if not len(dup):
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            DUPLICATE_COLUMNS, ("string", "Int64", "string", "int64", "int64", "bool"), strict=True)})
    parts = []
    for table, (key, column) in _TABLE_KEYS.items():
        cells = frames[table][is_in(frames[table]["report_id"], dup["report_id"])]
        parts.append(pd.DataFrame({"report_id": cells["report_id"].to_numpy(dtype=object),
                                   "cell": (table + ":" + cells[key].astype(str) + ":" + cells[column].astype(str))
                                   .to_numpy(dtype=object), "v": effective_values(cells)}))
    cells = pd.concat(parts, ignore_index=True).dropna(subset=["v"])
    cells = cells.merge(dup.astype({"report_id": object}), on="report_id")
    spread = cells.groupby(["agency", "report_year", "cell"])["v"].agg(["min", "max"]).reset_index()
    cells = cells.merge(spread, on=["agency", "report_year", "cell"])
    cells["differs"] = (cells["v"] != cells["min"]) | (cells["v"] != cells["max"])
    differing = cells.groupby("report_id")["differs"].sum()
    out = dup.assign(group_size=dup.groupby(["agency", "report_year"])["report_id"].transform("size"),
                     differing_cells=differing.reindex(dup["report_id"]).fillna(0).to_numpy())
    out["different_numbers"] = out.groupby(["agency", "report_year"])["differing_cells"].transform("max") > 0
    out = out.astype({"group_size": "int64", "differing_cells": "int64", "different_numbers": bool})
    return out[list(DUPLICATE_COLUMNS)].reset_index(drop=True)


def rule_summary(frames: dict[str, pd.DataFrame], result: CheckResult, duplicates: pd.DataFrame | None = None,
                 spec: Spec | None = None) -> pd.DataFrame:
    """Per report year and rule: reports in the year, reports on which the rule could be evaluated, reports
    violating it, their share of the evaluated reports, and the number of findings."""
    spec = spec or load_spec()
    reports = frames["reports"].drop_duplicates("report_id")
    year = reports.set_index("report_id")["report_year"]
    per_year = reports.groupby("report_year", dropna=False).size()
    findings = result.findings
    rows = []
    for rule in (*RULE_ORDER, DUPLICATE_RULE):
        if rule == DUPLICATE_RULE:
            flagged = duplicates[duplicates["different_numbers"]] if duplicates is not None else None
            violating = pd.Index(flagged["report_id"]) if flagged is not None else pd.Index([])
            checked = pd.Index(reports["report_id"].dropna())
            n_findings = pd.Series(1, index=violating)
            severity = "warning"
        else:
            mine = findings[findings["rule"] == rule]
            violating = pd.Index(mine["report_id"].unique())
            checked = result.checked.get(rule, pd.Index([])).union(violating)
            n_findings = mine.groupby("report_id").size()
            severity = spec.severity(rule)
        frame = pd.DataFrame({
            "reports": per_year,
            "reports_checked": year.reindex(checked).value_counts(dropna=False),
            "reports_violating": year.reindex(violating).value_counts(dropna=False),
            "findings": n_findings.groupby(year.reindex(n_findings.index).to_numpy(), dropna=False).sum()
            if len(n_findings) else pd.Series(dtype="int64"),
        }).fillna(0)
        frame.index.name = "report_year"
        frame = frame.reset_index().assign(rule=rule, severity=severity)
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    for column in ("reports", "reports_checked", "reports_violating", "findings"):
        out[column] = out[column].astype("int64")
    out["share"] = np.where(out["reports_checked"] > 0, out["reports_violating"] / out["reports_checked"].clip(1), 0.0)
    out["report_year"] = out["report_year"].astype("Int64")
    out["rule"] = out["rule"].astype("string")
    out["severity"] = out["severity"].astype("string")
    return out[list(SUMMARY_COLUMNS)].sort_values(["report_year", "rule"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ all
@dataclass
class Checked:
    findings: pd.DataFrame  # every rule finding (R1–R5, X1–X4), ``findings`` columns, finding_no null
    summary: pd.DataFrame  # rule_summary()
    duplicates: pd.DataFrame  # duplicate_reports()
    checked: dict[str, pd.Index]


def run_checks(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None = None,
               spec: Spec | None = None, tolerance: float = 0.0) -> Checked:
    """Every rule over ``frames`` (X1–X3 also against ``previous``, the previous year's frames)."""
    spec = spec or load_spec()
    result = CheckResult.combine([check_reports(frames, spec), check_cross_year(frames, previous, spec, tolerance),
                                  check_narrative(frames, spec)])
    duplicates = duplicate_reports(frames)
    summary = rule_summary(frames, result, duplicates, spec)
    findings = sort_findings(result.findings)
    return Checked(findings, summary, duplicates, result.checked)


def sort_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: report, rule (R1…X4), position within the rule; drops the helper column."""
    rank = pd.Index(RULE_ORDER).get_indexer(findings["rule"])
    order = findings["_order"] if "_order" in findings else pd.Series(0, index=findings.index)
    keyed = findings.assign(_rank=rank, _order=order.to_numpy())
    keyed = keyed.sort_values(["report_id", "_rank", "_order", "cells", "message"], kind="stable")
    return keyed.drop(columns=["_rank", "_order"]).reset_index(drop=True)

