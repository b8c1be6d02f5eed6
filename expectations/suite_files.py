"""Reading the expectation suite files (``expectations/suites/<table>.yaml``) into plain, checked plans.

What belongs here: the suite-file format (see ``expectations/README.md``), its validation with messages that
name the file and the entry, the generators that expand ``generate:`` entries from the column model
(``govreports.columns``) and the template spec (``govreports.spec``) — types, required columns, keys, allowed
codes (all and per template version), minimums, rule/severity pairs — and the static list of Dagster check
names.  What does not: Great Expectations itself (``expectations.runner`` imports it; this module must stay
importable without it so asset-check specs can be declared cheaply), the data-derived columns
(``expectations.batches``) or anything Dagster.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from expectations.batches import DERIVED_COLUMNS
from govreports.columns import TABLE_NAMES, Table, build_tables
from govreports.spec import TEMPLATE_VERSIONS, load_spec

SUITES_DIR = Path(__file__).parent / "suites"
SUITES_DIR_ENV = "GOVREPORTS_EXPECTATIONS_DIR"
CHECK_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # Dagster's rule for check names

# GX type names as GX's pandas backend reports them for the dtypes of ``govreports.frames``.
GX_TYPE_NAMES = {"string": "str", "integer": "int64", "number": "float64", "boolean": "bool", "date": "datetime64"}

# Expectation types whose bounds may be derived from the previous release, and the statistic each compares.
PREVIOUS_STATISTICS = {
    "expect_table_row_count_to_be_between": "row_count",
    "expect_column_mean_to_be_between": "mean",
    "expect_column_median_to_be_between": "median",
    "expect_column_sum_to_be_between": "sum",
    "expect_column_min_to_be_between": "min",
    "expect_column_max_to_be_between": "max",
    "expect_column_stdev_to_be_between": "stdev",
}
PREVIOUS_KEYS = {"max_shrink", "max_growth", "band", "slack"}
AGGREGATE_TYPES = set(PREVIOUS_STATISTICS) - {"expect_table_row_count_to_be_between"}
ENTRY_KEYS = {"check", "blocking", "description", "generate", "type", "kwargs", "where", "previous", "min_values"}
SUITE_KEYS = {"suite", "table", "version", "description", "parameters", "expectations"}


class SuiteFileError(ValueError):
    """A suite file is not well formed; the message names the file and the entry."""


@dataclass(frozen=True)
class PlannedExpectation:
    """One expectation as the suite file asks for it, before data-dependent values are filled in.

    ``kwargs`` may still hold ``${…}`` parameters and ``{date: …}`` values (resolved by the runner with the
    release year); ``previous`` derives ``min_value``/``max_value`` from the previous release; ``where`` is a
    conjunction of ``column == value`` (or ``column in [values]``) conditions; ``min_values`` skips an aggregate
    over fewer non-null values."""

    key: str  # stable id within the run: "<suite>#<n>"
    suite: str
    table: str
    check: str
    blocking: bool
    type: str
    kwargs: dict[str, Any]
    description: str
    where: dict[str, Any] | None = None
    previous: dict[str, float] | None = None
    min_values: int | None = None
    generated_from: str | None = None

    @property
    def needs_previous(self) -> bool:
        return self.previous is not None

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")


@dataclass(frozen=True)
class SuiteFile:
    name: str
    table: str
    version: int
    description: str
    path: Path
    sha256: str
    parameters: dict[str, Any]
    expectations: tuple[PlannedExpectation, ...]


@dataclass(frozen=True)
class CheckSpec:
    """A Dagster asset check as declared by the suite files (no data, no GX): attach it to the asset of
    ``table``; ``blocking`` checks fail with severity ERROR, the others with WARN."""

    table: str
    check_name: str
    blocking: bool
    description: str
    suite: str
    expectations: int
    needs_previous: bool = False
    expectation_types: tuple[str, ...] = field(default=())


def suites_dir(value: str | os.PathLike[str] | None = None) -> Path:
    """Where the suite files are: an explicit folder, else ``$GOVREPORTS_EXPECTATIONS_DIR``, else the packaged
    ``expectations/suites``."""
    chosen = value if value not in (None, "") else os.environ.get(SUITES_DIR_ENV) or SUITES_DIR
    return Path(chosen)


# ----------------------------------------------------------------------------------------- generators
def template_codes(table: str, column: str, template: str) -> tuple[str, ...] | None:
    """Codes a column may take in reports of one template version (None: the same in every version)."""
    spec = load_spec()
    if (table, column) == ("active_disclosure", "item"):
        return tuple(dict.fromkeys(item for block in spec.blocks(template) for item in block.items))
    if (table, column) == ("active_disclosure", "metric"):
        return tuple(dict.fromkeys(metric for block in spec.blocks(template) for metric in block.metrics))
    if (table, column) == ("applications", "row"):
        return tuple(row.code for row in spec.rows_for(template))
    return None


def model_codes(table: Table, column: str) -> tuple[Any, ...] | None:
    """Allowed values of a coded column: its ``enum`` in the column model (section numbers: the spec's)."""
    if table.name == "sections" and column == "number":
        return tuple(section.number for section in load_spec().sections)
    return table.column(column).enum


def _generated(table: Table, kind: str) -> list[tuple[str, dict[str, Any], dict[str, Any] | None, str]]:
    """(type, kwargs, where, description) of the expectations a ``generate:`` entry expands to."""
    out: list[tuple[str, dict[str, Any], dict[str, Any] | None, str]] = []
    name = table.name
    if kind == "columns_present":
        out.append(("expect_table_columns_to_match_set",
                    {"column_set": table.column_names, "exact_match": False},
                    None, f"{name} has every column of the column model"))
    elif kind == "column_types":
        for column in table.columns:
            out.append(("expect_column_values_to_be_of_type",
                        {"column": column.name, "type_": GX_TYPE_NAMES[column.type]},
                        None, f"{name}.{column.name} is of type {column.type}"))
    elif kind == "required_not_null":
        for column in table.columns:
            if column.required:
                out.append(("expect_column_values_to_not_be_null", {"column": column.name}, None,
                            f"{name}.{column.name} is never null"))
    elif kind == "primary_key_unique":
        key = list(table.primary_key)
        if len(key) == 1:
            out.append(("expect_column_values_to_be_unique", {"column": key[0]}, None, f"{name}.{key[0]} is unique"))
        else:
            out.append(("expect_compound_columns_to_be_unique", {"column_list": key}, None,
                        f"{name} key ({', '.join(key)}) is unique"))
    elif kind == "allowed_codes":
        for column in table.columns:
            codes = model_codes(table, column.name)
            if codes is not None:
                out.append(("expect_column_values_to_be_in_set", {"column": column.name, "value_set": list(codes)},
                            None, f"{name}.{column.name} is a known code"))
    elif kind == "allowed_codes_per_template":
        for template in TEMPLATE_VERSIONS:
            for column in table.columns:
                codes = template_codes(name, column.name, template)
                if codes is not None:
                    out.append(("expect_column_values_to_be_in_set", {"column": column.name, "value_set": list(codes)},
                                {"template": template},
                                f"{name}.{column.name} is a code of template {template} in reports of that template"))
    elif kind == "minimums":
        for column in table.columns:
            if column.minimum is not None:
                out.append(("expect_column_values_to_be_between", {"column": column.name, "min_value": column.minimum},
                            None, f"{name}.{column.name} ≥ {column.minimum:g}"))
    elif kind == "rule_severity":
        spec = load_spec()
        pairs = [[code, spec.severity(code)] for code in spec.finding_codes()]
        out.append(("expect_column_pair_values_to_be_in_set",
                    {"column_A": "rule", "column_B": "severity", "value_pairs_set": pairs},
                    None, f"{name}: every rule has the severity the spec gives it"))
    else:
        raise KeyError(kind)
    return out


GENERATORS = ("columns_present", "column_types", "required_not_null", "primary_key_unique", "allowed_codes",
              "allowed_codes_per_template", "minimums", "rule_severity")


# ----------------------------------------------------------------------------------------- loading
def _fail(path: Path, where: str, message: str) -> SuiteFileError:
    return SuiteFileError(f"{path}: {where}: {message}")


_WHOLE_PARAMETER = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")


def _parameter(value: Any, parameters: dict[str, Any], path: Path, where_label: str) -> Any:
    """A ``${name}`` standing for a whole value of ``previous`` or ``min_values``: the parameter's value."""
    if isinstance(value, str):
        match = _WHOLE_PARAMETER.match(value.strip())
        if not match or match.group(1) not in parameters:
            raise _fail(path, where_label, f"{value!r} is not a parameter of this suite ({sorted(parameters)})")
        return parameters[match.group(1)]
    return value


def _entry(path: Path, suite: str, table: Table, index: int, raw: Any, counter: list[int],
           parameters: dict[str, Any]) -> list[PlannedExpectation]:
    where_label = f"expectations[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where_label, "must be a mapping")
    if "min_values" in raw:
        raw = {**raw, "min_values": _parameter(raw["min_values"], parameters, path, where_label)}
    if isinstance(raw.get("previous"), dict):
        raw = {**raw, "previous": {k: _parameter(v, parameters, path, where_label) for k, v in raw["previous"].items()}}
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise _fail(path, where_label, f"unknown keys {sorted(unknown)} (allowed: {sorted(ENTRY_KEYS)})")
    check = raw.get("check")
    if not isinstance(check, str) or not CHECK_NAME_RE.match(check):
        raise _fail(path, where_label, f"`check` must be a Dagster check name (letters, digits, _), got {check!r}")
    blocking = raw.get("blocking")
    if not isinstance(blocking, bool):
        raise _fail(path, where_label, "`blocking` must be true or false")
    description = re.sub(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}",
                         lambda m: str(parameters.get(m.group(1), m.group(0))), str(raw.get("description") or ""))
    if ("generate" in raw) == ("type" in raw):
        raise _fail(path, where_label, "give exactly one of `generate` (from the column model) or `type` (a GX "
                                       "expectation)")

    def planned(type_: str, kwargs: dict[str, Any], where: dict[str, Any] | None, text: str,
                generated_from: str | None = None, previous: dict[str, float] | None = None,
                min_values: int | None = None) -> PlannedExpectation:
        counter[0] += 1
        return PlannedExpectation(
            key=f"{suite}#{counter[0]}", suite=suite, table=table.name, check=check, blocking=blocking, type=type_,
            kwargs=kwargs, description=text, where=where, previous=previous, min_values=min_values,
            generated_from=generated_from)

    if "generate" in raw:
        kind = raw["generate"]
        if kind not in GENERATORS:
            raise _fail(path, where_label, f"unknown generator {kind!r} (known: {', '.join(GENERATORS)})")
        extra = set(raw) - {"check", "blocking", "description", "generate"}
        if extra:
            raise _fail(path, where_label, f"a `generate` entry takes no {sorted(extra)}")
        source = "govreports.spec" if kind in ("allowed_codes_per_template", "rule_severity") else "govreports.columns"
        return [planned(t, k, w, description or text, f"{source}:{kind}") for t, k, w, text in _generated(table, kind)]

    type_ = raw["type"]
    if not isinstance(type_, str) or not type_.startswith("expect_"):
        raise _fail(path, where_label, f"`type` must be a GX expectation type such as expect_column_values_to_be_"
                                       f"between, got {type_!r}")
    kwargs = raw.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise _fail(path, where_label, "`kwargs` must be a mapping")
    for reserved in ("row_condition", "condition_parser", "meta"):
        if reserved in kwargs:
            raise _fail(path, where_label, f"use `where:` instead of kwargs.{reserved}" if reserved != "meta"
                        else "`meta` is set by the runner (check name, blocking)")
    where = raw.get("where")
    if where is not None and (not isinstance(where, dict) or not where):
        raise _fail(path, where_label, "`where` must be a mapping of column: value (or [values])")
    if where is not None and type_ == "expect_table_row_count_to_be_between":
        raise _fail(path, where_label, "`where` is not supported on row counts")
    previous = raw.get("previous")
    if previous is not None:
        if type_ not in PREVIOUS_STATISTICS:
            raise _fail(path, where_label, f"`previous` works with {sorted(PREVIOUS_STATISTICS)} only")
        if not isinstance(previous, dict) or not previous or set(previous) - PREVIOUS_KEYS:
            raise _fail(path, where_label, f"`previous` takes {sorted(PREVIOUS_KEYS)}")
        if any(not isinstance(v, int | float) or isinstance(v, bool) or v < 0 for v in previous.values()):
            raise _fail(path, where_label, "`previous` values must be non-negative numbers")
        if "max_shrink" in previous and previous["max_shrink"] > 1:
            raise _fail(path, where_label, "`previous.max_shrink` is a share between 0 and 1")
        if type_ == "expect_table_row_count_to_be_between":
            if not {"max_shrink", "max_growth"} & set(previous) or "band" in previous:
                raise _fail(path, where_label, "row counts take `previous: {max_shrink, max_growth, slack}`")
        elif not {"band", "slack"} & set(previous) or {"max_shrink", "max_growth"} & set(previous):
            raise _fail(path, where_label, "statistics take `previous: {band, slack}`")
        if {"min_value", "max_value"} & set(kwargs):
            raise _fail(path, where_label, "`previous` computes min_value/max_value; do not also give them")
    min_values = raw.get("min_values")
    if min_values is not None and (not isinstance(min_values, int) or isinstance(min_values, bool) or min_values < 0):
        raise _fail(path, where_label, "`min_values` must be a non-negative integer")
    if min_values is not None and type_ not in AGGREGATE_TYPES:
        raise _fail(path, where_label, f"`min_values` applies to aggregates only ({sorted(AGGREGATE_TYPES)})")
    columns = [c for c in (kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")) if c]
    columns += list(kwargs.get("column_list") or [])
    columns += list(where or {})
    known = {*table.column_names, *DERIVED_COLUMNS.get(table.name, {})}
    missing = [c for c in columns if c not in known]
    if missing:
        raise _fail(path, where_label, f"no column {missing} in {table.name} (columns: the column model's, plus "
                                       f"derived {sorted(DERIVED_COLUMNS.get(table.name, {}))})")
    return [planned(type_, dict(kwargs), dict(where) if where else None, description or _describe(type_, kwargs, where),
                    previous=dict(previous) if previous else None, min_values=min_values)]


def _describe(type_: str, kwargs: dict[str, Any], where: dict[str, Any] | None) -> str:
    words = type_.removeprefix("expect_").replace("_", " ")
    column = kwargs.get("column")
    text = f"{column}: {words}" if column else words
    if where:
        text += " where " + ", ".join(f"{k}={v}" for k, v in where.items())
    return text


def load_suite_file(path: Path) -> SuiteFile:
    data_bytes = path.read_bytes()
    try:
        raw = yaml.safe_load(data_bytes.decode("utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SuiteFileError(f"{path}: a suite file is a mapping with suite, table, version and expectations")
    unknown = set(raw) - SUITE_KEYS
    if unknown:
        raise SuiteFileError(f"{path}: unknown top-level keys {sorted(unknown)} (allowed: {sorted(SUITE_KEYS)})")
    name, table_name, version = raw.get("suite"), raw.get("table"), raw.get("version")
    if not isinstance(name, str) or not CHECK_NAME_RE.match(name):
        raise SuiteFileError(f"{path}: `suite` must be a name of letters, digits and _")
    if table_name not in TABLE_NAMES:
        raise SuiteFileError(f"{path}: `table` must be one of the published tables {list(TABLE_NAMES)}")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SuiteFileError(f"{path}: `version` must be a positive integer (bump it when you edit the suite)")
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise SuiteFileError(f"{path}: `parameters` must be a mapping")
    entries = raw.get("expectations")
    if not isinstance(entries, list) or not entries:
        raise SuiteFileError(f"{path}: `expectations` must be a non-empty list")
    table = build_tables()[table_name]
    counter = [0]
    planned: list[PlannedExpectation] = []
    for index, entry in enumerate(entries):
        planned.extend(_entry(path, name, table, index, entry, counter, parameters))
    blocking_of: dict[str, bool] = {}
    for item in planned:
        if blocking_of.setdefault(item.check, item.blocking) != item.blocking:
            raise SuiteFileError(f"{path}: check {item.check!r} is blocking in one entry and not in another")
    return SuiteFile(name=name, table=table_name, version=version, description=str(raw.get("description") or ""),
                     path=path, sha256=hashlib.sha256(data_bytes).hexdigest(), parameters=dict(parameters),
                     expectations=tuple(planned))


def load_suites(directory: str | os.PathLike[str] | None = None,
                tables: Iterable[str] | None = None) -> dict[str, SuiteFile]:
    """Every suite file (``*.yaml``) of the folder, by suite name, in file-name order; only the suites of
    ``tables`` when given.  Two suites may not claim the same (table, check name)."""
    folder = suites_dir(directory)
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise SuiteFileError(f"no suite files (*.yaml) in {folder}")
    wanted = set(tables) if tables is not None else None
    suites: dict[str, SuiteFile] = {}
    owners: dict[tuple[str, str], str] = {}
    for path in files:
        suite = load_suite_file(path)
        if suite.name in suites:
            raise SuiteFileError(f"{path}: suite {suite.name!r} is also defined in {suites[suite.name].path}")
        for item in suite.expectations:
            owner = owners.setdefault((suite.table, item.check), suite.name)
            if owner != suite.name:
                raise SuiteFileError(f"{path}: check {item.check!r} of table {suite.table} is also declared by suite "
                                     f"{owner!r}")
        if wanted is None or suite.table in wanted:
            suites[suite.name] = suite
    return suites


def list_checks(directory: str | os.PathLike[str] | None = None,
                tables: Iterable[str] | None = None) -> list[CheckSpec]:
    """The Dagster checks the suites declare, one per (table, check name), in file order — without running
    anything, so ``@multi_asset_check(specs=…)`` can be built at definition time."""
    return checks_of(load_suites(directory, tables))


def checks_of(suites: dict[str, SuiteFile]) -> list[CheckSpec]:
    """The checks of loaded suites, one per (table, check name), in file order."""
    out: dict[tuple[str, str], list[PlannedExpectation]] = {}
    for suite in suites.values():
        for item in suite.expectations:
            out.setdefault((suite.table, item.check), []).append(item)
    specs = []
    for (table, check), items in out.items():
        descriptions = list(dict.fromkeys(i.description for i in items))
        text = "; ".join(descriptions[:6]) + (f"; … ({len(descriptions) - 6} more)" if len(descriptions) > 6 else "")
        specs.append(CheckSpec(table=table, check_name=check, blocking=items[0].blocking, description=text,
                               suite=items[0].suite, expectations=len(items),
                               needs_previous=any(i.needs_previous for i in items),
                               expectation_types=tuple(dict.fromkeys(i.type for i in items))))
    return specs
