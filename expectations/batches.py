"""The data each suite is validated against: a published table plus a few documented derived columns, and the
statistics of the previous release that previous-relative bounds are computed from.

What belongs here: turning a year's frames (``govreports.frames``/``govreports.validation`` output) into one
pandas batch per table, with the derived columns listed in ``DERIVED_COLUMNS`` (the template of the report a cell
belongs to; per report: parsed or not, which of the three tables it has, and per rule whether it was violated —
from ``govreports.checks.run_checks``, the same source as ``rule_summary``), and evaluating ``where`` filters and
summary statistics with pandas for the previous year's bounds and the "too few values" skips.  What does not: the
expectations (suite files), running GX (``expectations.runner``), the rules themselves (``govreports.checks``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from govreports.checks import RULE_ORDER, run_checks
from govreports.columns import TABLE_NAMES, build_tables
from govreports.frames import empty_frame

CELL_TABLES = ("active_disclosure", "applications", "appeals")

# Columns added to a table's batch (never published); a suite may use them like any other column.
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    **{name: {"template": "template version of the report the row belongs to (from reports)"} for name in CELL_TABLES},
    "reports": {
        "parsed": "1 when status is parsed (0: partial) — its mean is the share of reports parsed",
        **{f"has_{name}": f"1 when the report has at least one {name} row — its mean is the share of reports with "
           "that table" for name in CELL_TABLES},
        **{f"violates_{rule}": f"1 when the report violates {rule}, 0 when {rule} was evaluated on it and holds, null "
           "when it could not be evaluated — its mean is rule_summary's share for the rule" for rule in RULE_ORDER},
    },
}


def complete(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every published table, absent ones empty (as ``govreports.validation.validate`` does)."""
    tables = build_tables()
    return {**{name: empty_frame(tables[name]) for name in TABLE_NAMES}, **{k: v for k, v in frames.items()
                                                                            if k in TABLE_NAMES}}


def _indicator(flags: pd.Series) -> pd.Series:
    return flags.astype("float64").astype("Float64")


def rule_indicators(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None) -> pd.DataFrame:
    """Per report (index) and rule (columns ``violates_<rule>``): 1.0 violated, 0.0 evaluated and holds, null
    not evaluable — from ``govreports.checks.run_checks`` (X1–X3 against ``previous``)."""
    checked = run_checks(frames, previous)
    ids = pd.Index(frames["reports"]["report_id"].astype(str).drop_duplicates())
    out = pd.DataFrame(index=ids)
    findings = checked.findings
    for rule in RULE_ORDER:
        violating = pd.Index(findings.loc[findings["rule"] == rule, "report_id"].astype(str).unique())
        evaluated = checked.checked.get(rule, pd.Index([])).astype(str).union(violating)
        column = pd.Series(pd.NA, index=ids, dtype="Float64")
        column[ids.isin(evaluated)] = 0.0
        column[ids.isin(violating)] = 1.0
        out[f"violates_{rule}"] = column
    return out


def build_batches(frames: dict[str, pd.DataFrame], previous: dict[str, pd.DataFrame] | None = None,
                  tables: tuple[str, ...] = TABLE_NAMES, *, rules: bool = True) -> dict[str, pd.DataFrame]:
    """One batch per table of ``tables``: the table's rows as given plus ``DERIVED_COLUMNS[table]``
    (``rules=False``: without the ``violates_<rule>`` columns, which run every rule)."""
    frames = complete(frames)
    reports = frames["reports"]
    template = reports.drop_duplicates("report_id").set_index(reports["report_id"].drop_duplicates().astype(str))
    template = template["template"]
    batches: dict[str, pd.DataFrame] = {}
    for name in tables:
        frame = frames[name].reset_index(drop=True)
        if name in CELL_TABLES:
            values = template.reindex(frame["report_id"].astype(str)).to_numpy(dtype=object)
            frame = frame.assign(template=pd.array(values, dtype="string"))
        elif name == "reports":
            ids = frame["report_id"].astype(str)
            extra: dict[str, Any] = {"parsed": _indicator(frame["status"].astype("string") == "parsed")}
            for table in CELL_TABLES:
                present = set(frames[table]["report_id"].astype(str))
                extra[f"has_{table}"] = _indicator(ids.isin(present))
            if rules:
                indicators = rule_indicators(frames, complete(previous) if previous is not None else None)
                for column in indicators.columns:
                    extra[column] = indicators[column].reindex(ids).to_numpy()
            frame = frame.assign(**{k: pd.array(v, dtype="Float64") for k, v in extra.items()})
        batches[name] = frame
    return batches


def filtered(batch: pd.DataFrame, where: dict[str, Any] | None) -> pd.DataFrame:
    """Rows of ``batch`` meeting every ``where`` condition (``column: value`` or ``column: [values]``), compared
    as text so that a YAML 2021 matches the string "2021"."""
    if not where:
        return batch
    mask = pd.Series(True, index=batch.index)
    for column, wanted in where.items():
        if column not in batch.columns:
            raise KeyError(column)
        values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
        mask &= batch[column].astype("string").isin(values).fillna(False).astype(bool)
    return batch[mask]


def count_values(batch: pd.DataFrame, column: str, where: dict[str, Any] | None) -> int:
    """How many non-null values ``column`` has among the rows meeting ``where``."""
    return int(filtered(batch, where)[column].notna().sum())


def values_of(batch: pd.DataFrame, column: str, where: dict[str, Any] | None) -> pd.Series:
    """The non-null values of ``column`` among the rows meeting ``where``, as floats."""
    return filtered(batch, where)[column].dropna().astype("float64")


def statistic(batch: pd.DataFrame, name: str, column: str | None, where: dict[str, Any] | None) -> float | None:
    """A summary statistic of a batch as GX computes it (``row_count`` counts rows; the others ignore nulls);
    None when there is no value to summarise."""
    if name == "row_count":
        return float(len(filtered(batch, where)))
    assert column is not None
    values = values_of(batch, column, where)
    if values.empty:
        return None
    result = {"mean": values.mean, "median": values.median, "sum": values.sum, "min": values.min,
              "max": values.max, "stdev": values.std}[name]()
    return None if result is None or (isinstance(result, float) and math.isnan(result)) else float(result)


def previous_bounds(stat: str, before: float, rule: dict[str, float]) -> dict[str, float | None]:
    """``min_value``/``max_value`` from the previous release's statistic.  Row counts: at least
    ``(1 - max_shrink) × before`` and, with ``max_growth``, at most ``(1 + max_growth) × before`` (rounded to whole
    rows).  Other statistics: within ``± band`` (a share) of ``before``.  ``slack`` widens both bounds by an absolute
    amount (useful when the previous value is 0)."""
    slack = float(rule.get("slack", 0.0))
    if stat == "row_count":
        low = math.ceil(before * (1 - rule["max_shrink"]) - slack) if "max_shrink" in rule else None
        high = math.floor(before * (1 + rule["max_growth"]) + slack) if "max_growth" in rule else None
        return {"min_value": max(low, 0) if low is not None else None, "max_value": high}
    band = float(rule.get("band", 0.0))
    low, high = before * (1 - band) - slack, before * (1 + band) + slack
    return {"min_value": min(low, high), "max_value": max(low, high)}
