"""Running the suites of one yearly release with Great Expectations Core 1.x, and shaping the results.

What belongs here: building GX ``ExpectationSuite``s from the planned expectations (``expectations.suite_files``)
with the release year, parameters and the previous release's bounds filled in; running one ``Checkpoint`` per
suite (``ValidationDefinition`` over a whole-dataframe batch) in an in-memory ephemeral context — nothing on the
network, nothing written unless Data Docs are asked for; per-expectation results; the full GX result JSON kept
with the release (``datapackage.publish.publish_release(expectations=…)``); GX's Data Docs site; and the
Dagster-free asset-check results (``asset_check_results``).  What does not: the suite files' format, the derived
columns (``expectations.batches``), sending alerts (``govreports.alerts``) or Dagster definitions.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expectations.batches import build_batches, count_values, previous_bounds, statistic
from expectations.suite_files import (
    AGGREGATE_TYPES,
    PREVIOUS_STATISTICS,
    PlannedExpectation,
    SuiteFile,
    SuiteFileError,
    checks_of,
    load_suites,
)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before GX is imported anywhere in this process

RESULT_FORMAT = "govreports-expectations/1"
DATA_DOCS_SITE = "govreports"
DOCS_MARKER = ".govreports-data-docs"  # marks a folder whose Data Docs this module built (and may replace)
_PARAMETER = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\d+))?\s*\}")
_IGNORED_KWARGS = {"column", "column_list", "column_A", "column_B", "batch_id", "row_condition", "condition_parser",
                   "result_format", "catch_exceptions"}
_STATUSES = ("passed", "failed", "skipped", "error")


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation: ``status`` passed | failed | skipped (not evaluated, e.g. no previous
    release) | error (GX raised while evaluating it; counts as failed)."""

    key: str
    suite: str
    table: str
    check_name: str
    blocking: bool
    expectation_type: str
    description: str
    status: str
    column: str | None = None
    where: dict[str, Any] | None = None
    observed: Any = None
    expected: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    generated_from: str | None = None

    @property
    def success(self) -> bool | None:
        return None if self.status == "skipped" else self.status == "passed"

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")

    @property
    def severity(self) -> str:
        return "ERROR" if self.blocking else "WARN"

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "key": self.key, "suite": self.suite, "table": self.table, "check_name": self.check_name,
            "blocking": self.blocking, "severity": self.severity, "expectation_type": self.expectation_type,
            "description": self.description, "column": self.column, "where": self.where, "status": self.status,
            "success": self.success, "observed": self.observed, "expected": self.expected, "details": self.details,
            "generated_from": self.generated_from,
        })


@dataclass
class SuiteResults:
    """Every expectation result of one run over a year's frames, the GX validation results as JSON (by suite),
    the suites that ran (file, version, sha256) and the Data Docs index when built."""

    year: int
    previous_year: int | None
    run_name: str
    run_time: str
    results: list[ExpectationResult]
    suites: dict[str, SuiteFile]
    gx_results: dict[str, dict[str, Any]]
    data_docs_index: Path | None = None
    gx_version: str = ""

    @property
    def failed(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.failed]

    @property
    def blocking_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failed if r.blocking]

    @property
    def skipped(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def success(self) -> bool:
        """No expectation failed (skipped ones do not count)."""
        return not self.failed

    @property
    def releasable(self) -> bool:
        """No blocking expectation failed."""
        return not self.blocking_failures

    def by_check(self) -> dict[tuple[str, str], list[ExpectationResult]]:
        out: dict[tuple[str, str], list[ExpectationResult]] = {}
        for result in self.results:
            out.setdefault((result.table, result.check_name), []).append(result)
        return out

    def check_results(self) -> list[dict[str, Any]]:
        """``asset_check_results(self)``: one Dagster-free dict per declared check."""
        return asset_check_results(self)

    def counts(self) -> dict[str, int]:
        return {status: sum(r.status == status for r in self.results) for status in _STATUSES}

    def to_release_json(self) -> dict[str, Any]:
        """What to store with the release (``publish_release(…, expectations=results.to_release_json())``)."""
        return jsonable({
            "format": RESULT_FORMAT,
            "year": self.year,
            "previous_year": self.previous_year,
            "run_name": self.run_name,
            "run_time": self.run_time,
            "great_expectations_version": self.gx_version,
            "success": self.success,
            "releasable": self.releasable,
            "counts": self.counts(),
            "suites": {name: {"table": s.table, "version": s.version, "file": s.path.name, "sha256": s.sha256}
                       for name, s in self.suites.items()},
            "checks": asset_check_results(self),
            "expectations": [r.to_dict() for r in self.results],
            "gx_validation_results": self.gx_results,
            "data_docs": str(self.data_docs_index) if self.data_docs_index else None,
        })


# ------------------------------------------------------------------------------------------------ helpers
def jsonable(value: Any) -> Any:
    """``value`` with numpy/pandas scalars, dates, NaN/NA, sets and GX objects turned into plain JSON values."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | Decimal):
        return jsonable(float(value))
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "to_json_dict"):
        return jsonable(value.to_json_dict())
    if hasattr(value, "dict") and callable(value.dict):  # pydantic models (GX row conditions)
        return jsonable(value.dict())
    return str(value)


def _substitute(value: Any, names: dict[str, Any]) -> Any:
    """``${name}`` / ``${year+1}`` parameters (a string that is only a parameter takes the parameter's type) and
    ``{date: "YYYY-MM-DD"}`` values."""
    if isinstance(value, dict):
        if set(value) == {"date"}:
            text = _substitute(str(value["date"]), names)
            return pd.Timestamp(text).to_pydatetime()
        return {k: _substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, names) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def lookup(match: re.Match[str]) -> Any:
        name, sign, amount = match.group(1), match.group(2), match.group(3)
        if name not in names:
            raise SuiteFileError(f"unknown parameter ${{{name}}} (known: {', '.join(sorted(names))})")
        base = names[name]
        if sign:
            base = base + int(amount) if sign == "+" else base - int(amount)
        return base

    whole = _PARAMETER.fullmatch(value.strip())
    if whole:
        return lookup(whole)
    return _PARAMETER.sub(lambda m: str(lookup(m)), value)


def _where_values(batch: pd.DataFrame, where: dict[str, Any]) -> dict[str, Any]:
    """``where`` with values cast to text for text columns (a YAML 2021 matches the template "2021")."""
    out: dict[str, Any] = {}
    for column, wanted in where.items():
        is_text = pd.api.types.is_string_dtype(batch[column].dtype)
        cast = (lambda v: str(v)) if is_text else (lambda v: v)
        out[column] = [cast(v) for v in wanted] if isinstance(wanted, list) else cast(wanted)
    return out


def _row_condition(where: dict[str, Any]) -> Any:
    from great_expectations.expectations.row_conditions import AndCondition
    from great_expectations.expectations.row_conditions import Column as GXColumn

    parts = [GXColumn(c).is_in(v) if isinstance(v, list) else GXColumn(c) == v for c, v in where.items()]
    return parts[0] if len(parts) == 1 else AndCondition(conditions=parts)


_NO_PARAMETERS = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_unique",
                  "expect_compound_columns_to_be_unique"}


def _expected(kwargs: dict[str, Any], type_: str | None = None) -> dict[str, Any]:
    """The expectation's parameters; for one that has none (not null, unique): no unexpected rows."""
    out = {k: v for k, v in kwargs.items() if k not in _IGNORED_KWARGS and v is not None}
    if not out and type_ in _NO_PARAMETERS:
        return {"unexpected_count": 0}
    return out


def _observed(result: dict[str, Any]) -> Any:
    if "observed_value" in result:
        return result["observed_value"]
    keys = ("element_count", "unexpected_count", "unexpected_percent", "missing_count", "partial_unexpected_list")
    out = {k: result[k] for k in keys if k in result}
    if "partial_unexpected_list" in out:
        out["partial_unexpected_list"] = list(out["partial_unexpected_list"])[:10]
    return out


def _gx_context(data_docs_dir: Path | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if data_docs_dir is not None:
        sites[DATA_DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False, data_docs_sites=sites,
                               progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    return gx.get_context(mode="ephemeral", project_config=config)


def _prepare_docs_dir(folder: Path) -> Path:
    """An empty folder for the site, or one this module built before (its old pages are removed so the site
    shows this run only).  Any other non-empty folder is refused rather than overwritten."""
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / DOCS_MARKER).is_file():
            raise FileExistsError(f"{folder} is not empty and holds no Data Docs built by govreports; give an empty "
                                  "or new folder")
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DOCS_MARKER).write_text("Data Docs built by govreports (expectations.runner)\n", encoding="utf-8")
    return folder


# ------------------------------------------------------------------------------------------------ planning
@dataclass
class _Prepared:
    planned: PlannedExpectation
    kwargs: dict[str, Any]
    where: dict[str, Any] | None
    description: str = ""
    skip_reason: str | None = None
    basis: dict[str, Any] | None = None  # how previous-relative bounds were computed

    def rendered_description(self) -> str:
        """The description with the resolved scalar bounds, as Data Docs show it."""
        scalars = {k: v for k, v in _expected(self.kwargs).items()
                   if k in ("min_value", "max_value", "type_", "mostly")}
        if not scalars:
            return self.description
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in scalars.items())
        return f"{self.description} [{shown}]"


def _prepare(item: PlannedExpectation, suite: SuiteFile, batch: pd.DataFrame, previous: pd.DataFrame | None,
             names: dict[str, Any]) -> _Prepared:
    try:
        parameters = {k: _substitute(v, names) for k, v in suite.parameters.items()}
        kwargs = _substitute(item.kwargs, {**parameters, **names})
        description = str(_substitute(item.description, {**parameters, **names}))
    except SuiteFileError as exc:
        raise SuiteFileError(f"{suite.path}: {item.check} ({item.description}): {exc}") from exc
    where = _where_values(batch, item.where) if item.where else None
    prepared = _Prepared(item, kwargs, where, description)
    column = kwargs.get("column")
    if item.type in AGGREGATE_TYPES and column is not None:
        present = count_values(batch, column, where)
        if present == 0:
            prepared.skip_reason = "no values to evaluate" + (f" where {where}" if where else "")
            return prepared
        if item.min_values is not None and present < item.min_values:
            prepared.skip_reason = f"only {present} values (min_values {item.min_values})"
            return prepared
    if item.previous is None:
        return prepared
    if previous is None:
        prepared.skip_reason = "no previous release to compare with"
        return prepared
    stat = PREVIOUS_STATISTICS[item.type]
    before_where = _where_values(previous, item.where) if item.where else None
    if stat != "row_count" and item.min_values is not None:
        count = count_values(previous, column, before_where)
        if count < item.min_values:
            prepared.skip_reason = f"only {count} values in the previous release (min_values {item.min_values})"
            return prepared
    before = statistic(previous, stat, column, before_where)
    if before is None:
        prepared.skip_reason = "the previous release has no values to compare with"
        return prepared
    bounds = previous_bounds(stat, before, item.previous)
    kwargs.update({k: v for k, v in bounds.items() if v is not None})
    prepared.basis = {"statistic": stat, "previous_value": before, **item.previous}
    return prepared


def _build_expectation(prepared: _Prepared, suite: SuiteFile, year: int) -> Any:
    from great_expectations.expectations.registry import get_expectation_impl

    item = prepared.planned
    try:
        implementation = get_expectation_impl(item.type)
    except Exception as exc:  # GX raises its own not-found error
        raise SuiteFileError(f"{suite.path}: {item.check}: unknown expectation type {item.type!r}") from exc
    meta = {"check_name": item.check, "blocking": item.blocking, "severity": "ERROR" if item.blocking else "WARN",
            "table": item.table, "suite": suite.name, "suite_version": suite.version, "key": item.key,
            "release_year": year, "generated_from": item.generated_from, "previous": prepared.basis}
    arguments = dict(prepared.kwargs)
    if prepared.where:
        arguments["row_condition"] = _row_condition(prepared.where)
    try:
        return implementation(**arguments, meta=jsonable(meta), description=prepared.rendered_description(),
                              severity="critical" if item.blocking else "warning")
    except Exception as exc:  # pydantic validation of the suite file's kwargs
        raise SuiteFileError(f"{suite.path}: {item.check} ({item.description}): invalid kwargs for {item.type}: "
                             f"{exc}") from exc


def _skipped(prepared: _Prepared) -> ExpectationResult:
    item = prepared.planned
    return ExpectationResult(
        key=item.key, suite=item.suite, table=item.table, check_name=item.check, blocking=item.blocking,
        expectation_type=item.type, description=prepared.description, status="skipped", column=item.column,
        where=prepared.where, expected={**_expected(prepared.kwargs), **({"previous": item.previous}
                                                                         if item.previous else {})},
        details={"reason": prepared.skip_reason}, generated_from=item.generated_from)


# ------------------------------------------------------------------------------------------------ running
def run_suites(frames: dict[str, pd.DataFrame], year: int, previous: dict[str, pd.DataFrame] | None = None,
               data_docs_dir: str | os.PathLike[str] | None = None, *, suites_dir: str | os.PathLike[str] | None = None,
               tables: Iterable[str] | None = None, run_name: str | None = None) -> SuiteResults:
    """Run every suite (or those of ``tables``) over ``frames``, the tables of the release of ``year``.

    ``previous``: the frames to compare with (normally the previous year's release); expectations that need it
    are skipped without it.  ``data_docs_dir``: build GX's Data Docs site there (``results.data_docs_index`` is its
    ``index.html``).  ``suites_dir``: another folder of suite files (default ``$GOVREPORTS_EXPECTATIONS_DIR`` or
    the packaged ``expectations/suites``).  ``run_name``: the GX run name (e.g. the Dagster run id)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    suites = load_suites(suites_dir, tables)
    needed = tuple(dict.fromkeys(s.table for s in suites.values()))
    if previous is not None and len(previous.get("reports", ())) == 0:
        previous = None  # an empty previous release compares like none
    batches = build_batches(frames, previous, needed)
    previous_rules = any(i.needs_previous and str(i.column or "").startswith("violates_")
                         for s in suites.values() for i in s.expectations)
    previous_batches = build_batches(previous, None, needed, rules=previous_rules) if previous is not None else None
    previous_year = None
    if previous is not None:
        years = pd.Series(previous["reports"]["report_year"]).dropna()
        previous_year = int(years.mode().iloc[0]) if len(years) else None
    run_time = dt.datetime.now(dt.UTC)
    run_name = run_name or f"{year}-{run_time.strftime('%Y%m%dT%H%M%S')}"
    names: dict[str, Any] = {"year": int(year)}
    docs_dir = _prepare_docs_dir(Path(data_docs_dir)) if data_docs_dir is not None else None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        context = _gx_context(docs_dir)
        source = context.data_sources.add_pandas("govreports")
        results: list[ExpectationResult] = []
        gx_results: dict[str, dict[str, Any]] = {}
        for suite in suites.values():
            batch = batches[suite.table]
            before = previous_batches[suite.table] if previous_batches is not None else None
            prepared = [_prepare(item, suite, batch, before, names) for item in suite.expectations]
            runnable = [p for p in prepared if p.skip_reason is None]
            by_key: dict[str, Any] = {}  # planned key -> GX ExpectationValidationResult
            if runnable:
                gx_suite = context.suites.add(gx.ExpectationSuite(
                    name=f"govreports.{suite.name}",
                    expectations=[_build_expectation(p, suite, year) for p in runnable],
                    meta={"suite_file": suite.path.name, "suite_version": suite.version, "sha256": suite.sha256,
                          "table": suite.table, "release_year": year, "description": suite.description}))
                batch_definition = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe(
                    f"release_{year}")
                validation = context.validation_definitions.add(gx.ValidationDefinition(
                    name=f"{suite.name}_{year}", data=batch_definition, suite=gx_suite))
                checkpoint = context.checkpoints.add(gx.Checkpoint(
                    name=f"{suite.name}_{year}", validation_definitions=[validation],
                    result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20}))
                outcome = checkpoint.run(batch_parameters={"dataframe": batch},
                                         run_id=RunIdentifier(run_name=run_name, run_time=run_time))
                for validation_result in outcome.run_results.values():
                    gx_results[suite.name] = jsonable(validation_result.to_json_dict())
                    for item in validation_result.results:
                        by_key[item.expectation_config.meta["key"]] = item
            for p in prepared:
                results.append(_skipped(p) if p.skip_reason else _from_gx(p, by_key[p.planned.key]))
        index = None
        if docs_dir is not None:
            context.build_data_docs(site_names=[DATA_DOCS_SITE])
            index = docs_dir / "index.html"

    return SuiteResults(year=int(year), previous_year=previous_year, run_name=run_name,
                        run_time=run_time.isoformat(timespec="seconds"), results=results, suites=suites,
                        gx_results=gx_results, data_docs_index=index, gx_version=gx.__version__)


def _exception_messages(info: Any) -> list[str]:
    """Messages of the exceptions GX caught while evaluating an expectation: ``exception_info`` is either one
    ``{raised_exception, exception_message}`` or such a dict per metric."""
    if not isinstance(info, dict):
        return []
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    raised = [e for e in entries if str(e.get("raised_exception")).lower() == "true"]
    return list(dict.fromkeys(str(e.get("exception_message") or "exception") for e in raised))


def _from_gx(prepared: _Prepared, item: Any) -> ExpectationResult:
    planned = prepared.planned
    result = dict(item.result or {})
    messages = _exception_messages(item.exception_info)
    status = "error" if messages else ("passed" if item.success else "failed")
    details = {k: v for k, v in result.items() if k not in ("observed_value", "partial_unexpected_list")}
    if messages:
        details["exception"] = "; ".join(messages)
    expected = _expected(prepared.kwargs, planned.type)
    if prepared.basis:
        expected["previous"] = prepared.basis
    return ExpectationResult(
        key=planned.key, suite=planned.suite, table=planned.table, check_name=planned.check,
        blocking=planned.blocking, expectation_type=planned.type, description=prepared.description, status=status,
        column=planned.column, where=prepared.where, observed=jsonable(_observed(result)), expected=jsonable(expected),
        details=jsonable(details), generated_from=planned.generated_from)


# ------------------------------------------------------------------------------------------------ Dagster shape
def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_markdown(results: list[ExpectationResult]) -> str:
    """A Markdown table of expectation results (for check metadata)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| status | expectation | observed | expected |", "| --- | --- | --- | --- |"]
    for r in results:
        observed = r.details.get("reason", "") if r.status == "skipped" else _short(r.observed, 80)
        lines.append(f"| {r.status} | {cell(r.description)} | {cell(str(observed))} | {cell(_short(r.expected, 80))} |")
    return "\n".join(lines)


def asset_check_results(results: SuiteResults) -> list[dict[str, Any]]:
    """One dict per declared check (``list_checks`` order), shaped like a Dagster ``AssetCheckResult``:
    ``table`` (attach to that table's asset), ``check_name``, ``passed`` (False when any expectation failed or
    errored; skipped ones pass), ``severity`` ("ERROR" for blocking checks, "WARN" otherwise), ``blocking``,
    ``description`` and ``metadata`` (plain JSON values; wrap lists/dicts with ``MetadataValue.json`` and
    ``summary`` with ``MetadataValue.md``)."""
    grouped = results.by_check()
    out = []
    for spec in checks_of(results.suites):
        items = grouped.get((spec.table, spec.check_name), [])
        failed = [r for r in items if r.failed]
        skipped = [r for r in items if r.status == "skipped"]
        status = "failed" if failed else ("skipped" if items and len(skipped) == len(items) else "passed")
        suite = results.suites[spec.suite]
        metadata: dict[str, Any] = {
            "status": status,
            "release_year": results.year,
            "previous_year": results.previous_year,
            "suite": spec.suite,
            "suite_version": suite.version,
            "suite_file": suite.path.name,
            "expectations": len(items),
            "passed_expectations": sum(r.status == "passed" for r in items),
            "failed_expectations": len(failed),
            "skipped_expectations": len(skipped),
            "failures": [{"description": r.description, "expectation_type": r.expectation_type, "column": r.column,
                          "where": r.where, "observed": r.observed, "expected": r.expected, "status": r.status,
                          "details": {k: v for k, v in r.details.items() if k in ("exception", "unexpected_count",
                                                                                  "element_count")}}
                         for r in failed[:20]],
            "skipped": sorted({r.details.get("reason", "") for r in skipped}),
            "summary": summary_markdown(items),
            "gx_run_name": results.run_name,
        }
        if results.data_docs_index is not None:
            metadata["data_docs"] = str(results.data_docs_index)
        out.append({"table": spec.table, "check_name": spec.check_name, "passed": not failed,
                    "severity": "ERROR" if spec.blocking else "WARN", "blocking": spec.blocking,
                    "description": spec.description, "metadata": jsonable(metadata)})
    return out


__all__ = ["ExpectationResult", "SuiteResults", "asset_check_results", "jsonable", "run_suites", "summary_markdown"]
