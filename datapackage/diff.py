"""Release diffs: what changed between two versions of a year's package, as machine-readable JSON, and the
version bump that follows from it.

What belongs here: comparing two snapshots (Table Schemas and published CSV bytes of every tabular resource)
row by row on each table's primary key: reports added / removed / changed, rows added / removed, cells changed
with old and new values, rules newly violated or no longer violated, schema changes; and the bump policy.
What does not: reading or writing release folders beyond loading a snapshot (``publish``), or judging whether a
change is right (the findings and expectation suites do that).

Bump policy (semantic versions per report year, first release 1.0.0):
- major: the set of tabular resources, or any table's columns (names, order or types), differ;
- minor: any data changed (a report, row or cell added, removed or changed, a code added to a code list) or a
  constraint / key / enum of a Table Schema changed with the same columns;
- patch: only descriptive metadata of the Table Schemas changed (titles, descriptions);
- none: same fingerprint, no new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datapackage.descriptor import columns_signature, schema_core
from datapackage.serialize import parse_csv, read_cell

DIFF_FORMAT = "govreports-release-diff/1"


@dataclass
class Snapshot:
    """The tabular content of one release: Table Schema and CSV bytes per resource name."""

    version: str | None
    schemas: dict[str, dict[str, Any]]
    data: dict[str, bytes]
    fingerprint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_snapshot(release_dir: Path) -> Snapshot:
    descriptor = json.loads((release_dir / "datapackage.json").read_text(encoding="utf-8"))
    schemas: dict[str, dict[str, Any]] = {}
    data: dict[str, bytes] = {}
    for resource in descriptor["resources"]:
        if resource.get("type") == "table" and resource.get("format") == "csv":
            schemas[resource["name"]] = resource["schema"]
            data[resource["name"]] = (release_dir / resource["path"]).read_bytes()
    meta = descriptor.get("govreports") or {}
    return Snapshot(descriptor.get("version"), schemas, data, meta.get("fingerprint"), descriptor)


def bump_for(old: Snapshot | None, new: Snapshot) -> str | None:
    """``major`` | ``minor`` | ``patch`` | None (nothing changed), per the policy in the module docstring."""
    if old is None:
        return "major"
    if set(old.schemas) != set(new.schemas):
        return "major"
    if any(columns_signature(old.schemas[n]) != columns_signature(new.schemas[n]) for n in new.schemas):
        return "major"
    if any(old.data[n] != new.data[n] for n in new.data):
        return "minor"
    if any(schema_core(old.schemas[n]) != schema_core(new.schemas[n]) for n in new.schemas):
        return "minor"
    if any(old.schemas[n] != new.schemas[n] for n in new.schemas):
        return "patch"
    return None


def next_version(previous: str | None, bump: str) -> str:
    if previous is None:
        return "1.0.0"
    major, minor, patch = (int(part) for part in previous.split("."))
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ValueError(f"unknown bump {bump!r}")


def _rows(schema: dict[str, Any], data: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    header, rows = parse_csv(data)
    types = {f["name"]: f["type"] for f in schema["fields"]}
    return header, [{name: read_cell(text, types.get(name, "string")) for name, text in zip(header, row, strict=True)}
                    for row in rows]


def _key(row: dict[str, Any], key_columns: list[str]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in key_columns)


def _key_dict(key: tuple[Any, ...], key_columns: list[str]) -> dict[str, Any]:
    return dict(zip(key_columns, key, strict=True))


def _schema_changes(old: Snapshot, new: Snapshot) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "resources_added": sorted(set(new.schemas) - set(old.schemas)),
        "resources_removed": sorted(set(old.schemas) - set(new.schemas)),
        "columns": {},
        "constraints_changed": [],
        "descriptions_changed": [],
    }
    for name in sorted(set(old.schemas) & set(new.schemas)):
        old_cols = dict(columns_signature(old.schemas[name]))
        new_cols = dict(columns_signature(new.schemas[name]))
        entry = {
            "added": [c for c in new_cols if c not in old_cols],
            "removed": [c for c in old_cols if c not in new_cols],
            "retyped": [{"column": c, "old": old_cols[c], "new": new_cols[c]}
                        for c in new_cols if c in old_cols and old_cols[c] != new_cols[c]],
            "reordered": [c for c in old_cols if c in new_cols] != [c for c in new_cols if c in old_cols],
        }
        if entry["added"] or entry["removed"] or entry["retyped"] or entry["reordered"]:
            changes["columns"][name] = entry
        elif schema_core(old.schemas[name]) != schema_core(new.schemas[name]):
            changes["constraints_changed"].append(name)
        elif old.schemas[name] != new.schemas[name]:
            changes["descriptions_changed"].append(name)
    return changes


def _violations(schema: dict[str, Any] | None, data: bytes | None, rule_codes: set[str]) -> set[tuple[str, str]]:
    if schema is None or data is None:
        return set()
    _header, rows = _rows(schema, data)
    return {(row["report_id"], row["rule"]) for row in rows
            if row.get("rule") in rule_codes and row.get("report_id") is not None}


def release_diff(old: Snapshot | None, new: Snapshot, *, rule_codes: set[str]) -> dict[str, Any]:
    """Machine-readable diff of ``new`` against ``old`` (``old`` None: the first release, everything added)."""
    empty = Snapshot(None, {}, {})
    base = old or empty
    bump = bump_for(old, new)
    new_reports = _report_ids(new)
    old_reports = _report_ids(base)
    added_reports = new_reports - old_reports
    removed_reports = old_reports - new_reports
    changed_reports: set[str] = set()
    tables: dict[str, Any] = {}
    for name in sorted(set(base.schemas) | set(new.schemas)):
        entry = _table_diff(name, base, new, added_reports, removed_reports, changed_reports)
        if entry:
            tables[name] = entry
    changed_reports -= added_reports | removed_reports
    old_violations = _violations(base.schemas.get("findings"), base.data.get("findings"), rule_codes)
    new_violations = _violations(new.schemas.get("findings"), new.data.get("findings"), rule_codes)
    newly = sorted(new_violations - old_violations)
    resolved = sorted(old_violations - new_violations)
    return {
        "format": DIFF_FORMAT,
        "from_version": base.version,
        "to_version": new.version,
        "bump": bump,
        "schema": _schema_changes(base, new),
        "reports": {
            "added": sorted(added_reports),
            "removed": sorted(removed_reports),
            "changed": sorted(changed_reports),
        },
        "tables": tables,
        "rules": {
            "newly_violated": [{"report_id": r, "rule": rule} for r, rule in newly],
            "no_longer_violated": [{"report_id": r, "rule": rule} for r, rule in resolved],
        },
        "summary": {
            "reports_added": len(added_reports),
            "reports_removed": len(removed_reports),
            "reports_changed": len(changed_reports),
            "cells_changed": sum(len(t.get("cells_changed", [])) for t in tables.values()),
            "rows_added": sum(t["counts"]["rows_added"] for t in tables.values()),
            "rows_removed": sum(t["counts"]["rows_removed"] for t in tables.values()),
            "rules_newly_violated": len(newly),
            "rules_no_longer_violated": len(resolved),
        },
    }


def _report_ids(snapshot: Snapshot) -> set[str]:
    if "reports" not in snapshot.schemas:
        return set()
    _header, rows = _rows(snapshot.schemas["reports"], snapshot.data["reports"])
    return {row["report_id"] for row in rows if row.get("report_id") is not None}


def _table_diff(name: str, old: Snapshot, new: Snapshot, added_reports: set[str], removed_reports: set[str],
                changed_reports: set[str]) -> dict[str, Any] | None:
    if name in old.schemas and name in new.schemas and old.data[name] == new.data[name]:
        return None
    old_header, old_rows = _rows(old.schemas[name], old.data[name]) if name in old.schemas else ([], [])
    new_header, new_rows = _rows(new.schemas[name], new.data[name]) if name in new.schemas else ([], [])
    old_pk = list(old.schemas[name].get("primaryKey", [])) if name in old.schemas else []
    new_pk = list(new.schemas[name].get("primaryKey", [])) if name in new.schemas else []
    shared = [c for c in new_header if c in old_header]
    if not old_header or not new_header:  # a whole resource added or removed
        key_columns = new_pk or old_pk
    elif new_pk == old_pk and set(new_pk) <= set(shared):
        key_columns = new_pk
    else:  # the key itself changed: rows are matched on every shared column
        key_columns = shared
    old_by_key = {_key(row, key_columns): row for row in old_rows}
    new_by_key = {_key(row, key_columns): row for row in new_rows}
    keyed_by_report = "report_id" in key_columns

    def report_of(row: dict[str, Any]) -> str | None:
        return row.get("report_id") if keyed_by_report else None

    def only_in(rows_by_key: dict, other: dict, whole_reports: set) -> tuple[list[dict[str, Any]], int]:
        """Keys of rows only in ``rows_by_key`` (rows of reports added or removed whole are only counted)."""
        listed, total = [], 0
        for key in sorted(rows_by_key.keys() - other.keys(), key=_sortable):
            total += 1
            report = report_of(rows_by_key[key])
            if report in whole_reports:
                continue
            if report is not None:
                changed_reports.add(report)
            listed.append(_key_dict(key, key_columns))
        return listed, total

    added, added_total = only_in(new_by_key, old_by_key, added_reports)
    removed, removed_total = only_in(old_by_key, new_by_key, removed_reports)
    cells = []
    compared = [c for c in shared if c not in key_columns]
    for key in sorted(new_by_key.keys() & old_by_key.keys(), key=_sortable):
        old_row, new_row = old_by_key[key], new_by_key[key]
        for column in compared:
            if old_row.get(column) != new_row.get(column):
                report = report_of(new_row)
                if report is not None:
                    changed_reports.add(report)
                cells.append({"key": _key_dict(key, key_columns), "column": column,
                              "old": old_row.get(column), "new": new_row.get(column)})
    if not (added_total or removed_total or cells):
        return None
    return {
        "primary_key": key_columns,
        "counts": {"rows_added": added_total, "rows_removed": removed_total, "cells_changed": len(cells)},
        "rows_added": added,
        "rows_removed": removed,
        "cells_changed": cells,
    }


def _sortable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, "" if value is None else str(value)) for value in key)
