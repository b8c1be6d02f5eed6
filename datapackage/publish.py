"""Publishing a year's tables as an immutable, versioned, validated release folder.

What belongs here: the release layout, the publish transaction (render in memory → fingerprint → write into a
temporary folder inside ``releases/<year>/`` → validate with Frictionless → make read-only → atomic rename to
``<version>`` → atomic ``latest`` pointer), the release README and CHANGELOG, and failure cleanup.  What does not:
the Table Schemas (``descriptor``), the byte formats (``serialize``), the diff and bump policy (``diff``), loading
into DuckDB (``warehouse``) or consuming a release (``loader``).

Layout of ``releases/<year>/``::

    <version>/datapackage.json      descriptor (Data Package v2), hashes and bytes of every file below
    <version>/data/<table>.csv      one per table (UTF-8), validated by `frictionless validate`
    <version>/data/<table>.parquet  the same rows in Parquet (declared as plain files; hash-checked)
    <version>/codes/<list>.csv      code lists with Chinese and English titles
    <version>/diff.json             machine-readable diff against the previous version
    <version>/findings_summary.json findings by rule and severity
    <version>/expectations.json     expectation results (when given)
    <version>/README.md, CHANGELOG.md
    latest.json                     {"version": ..., ...}, replaced atomically
    latest -> <version>             symlink, replaced atomically

Versioning: see ``datapackage.diff`` (first 1.0.0; columns differ → major; data or constraints → minor;
descriptions only → patch; same fingerprint → no new version).  A published version folder is never written
again: publishing refuses an existing version and the folder is made read-only before it is renamed into place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from datapackage import descriptor as dp
from datapackage.codelists import CODE_LIST_NAMES, code_list_rows, code_list_tables
from datapackage.diff import Snapshot, bump_for, load_snapshot, next_version, release_diff
from datapackage.serialize import Row, canonical_rows, csv_bytes, parquet_bytes
from govreports.columns import Table, build_tables
from govreports.spec import Spec, load_spec

VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
TEMP_PREFIX = ".tmp-publish-"
LOCK_NAME = ".publish.lock"
LATEST_JSON = "latest.json"
LATEST_LINK = "latest"


class PublishError(RuntimeError):
    """Publishing failed; the previous release and ``latest`` are untouched and no temporary folder is left."""


class ReleaseExistsError(PublishError):
    """The version folder already exists: published versions are never overwritten."""


class ReleaseInvalidError(PublishError):
    """The package did not validate with Frictionless; nothing was published."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Release:
    """The outcome of a publish: ``created`` False means the content equalled ``version`` and nothing was written;
    ``previous_version`` is the version before ``version``; ``diff`` is that version's diff.json (None when
    nothing was created)."""

    version: str
    path: Path
    created: bool
    previous_version: str | None
    diff: dict[str, Any] | None
    year: int = 0
    fingerprint: str = ""


@dataclass
class Rendered:
    """A release's tabular content in memory: canonical rows, CSV bytes and Table Schema per resource."""

    tables: dict[str, Table]
    roles: dict[str, str]
    rows: dict[str, list[Row]]
    csv: dict[str, bytes]
    schemas: dict[str, dict[str, Any]]
    fingerprint: str

    def snapshot(self, version: str | None) -> Snapshot:
        return Snapshot(version, self.schemas, self.csv, self.fingerprint)


# ---------------------------------------------------------------------------------------------- rendering


def render(frames: dict[str, pd.DataFrame], *, year: int | None = None, tables: dict[str, Table] | None = None,
           spec: Spec | None = None) -> Rendered:
    """Canonical rows and CSV bytes of every report table (from ``frames``) and code list (from the spec)."""
    report_tables = dict(tables or build_tables())
    unknown = sorted(set(frames) - set(report_tables))
    if unknown:
        raise ValueError(f"frames for tables the column model does not have: {unknown}")
    codes = code_list_tables()
    code_rows = code_list_rows(spec)
    all_tables: dict[str, Table] = {**report_tables, **codes}
    roles = {**dict.fromkeys(report_tables, "table"), **dict.fromkeys(codes, "code_list")}
    rows: dict[str, list[Row]] = {}
    for name, table in report_tables.items():
        frame = frames.get(name)
        rows[name] = canonical_rows(table, frame if frame is not None else pd.DataFrame(columns=table.column_names))
    for name in CODE_LIST_NAMES:
        rows[name] = canonical_rows(codes[name], code_rows[name])
    if year is not None and "reports" in report_tables:
        years_at = report_tables["reports"].column_names.index("report_year")
        other = sorted({r[years_at] for r in rows["reports"] if r[years_at] not in (None, year)})
        if other:
            raise ValueError(f"reports of other years {other} in the release of {year}")
    csv = {name: csv_bytes(all_tables[name], rows[name]) for name in all_tables}
    schemas = {name: dp.table_schema(all_tables[name]) for name in all_tables}
    hashes = {name: dp.sha256_hex(data) for name, data in csv.items()}
    return Rendered(all_tables, roles, rows, csv, schemas, dp.fingerprint(schemas, hashes))


def csv_path(name: str, role: str) -> str:
    return f"codes/{name}.csv" if role == "code_list" else f"data/{name}.csv"


def parquet_path(name: str) -> str:
    return f"data/{name}.parquet"


# ---------------------------------------------------------------------------------------------- folders


def year_dir(releases_dir: Path, year: int) -> Path:
    return Path(releases_dir) / str(year)


def version_key(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.match(version)
    if not match:
        raise ValueError(f"not a semantic version: {version!r}")
    return int(match[1]), int(match[2]), int(match[3])


def list_versions(releases_dir: Path, year: int) -> list[str]:
    """Published versions of a year, oldest first (folders with a ``datapackage.json``)."""
    folder = year_dir(releases_dir, year)
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir()
             if p.is_dir() and not p.is_symlink() and VERSION_RE.match(p.name) and (p / "datapackage.json").is_file()]
    return sorted(found, key=version_key)


def read_latest(releases_dir: Path, year: int) -> dict[str, Any] | None:
    path = year_dir(releases_dir, year) / LATEST_JSON
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(root: Path, relative: str, data: bytes) -> dp.FileEntry:
    """Write one release file (never replacing an existing one) and return its hash and size."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return dp.FileEntry.of(relative, data)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")


def _make_read_only(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for filename in filenames:
            os.chmod(os.path.join(dirpath, filename), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    for dirpath, _dirnames, _filenames in os.walk(root, topdown=False):
        os.chmod(dirpath, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def remove_tree(root: Path) -> None:
    """Remove a folder even when it was made read-only."""
    if not root.exists() and not root.is_symlink():
        return
    for dirpath, _dirnames, _filenames in os.walk(root):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, stat.S_IRWXU)
    shutil.rmtree(root, ignore_errors=True)


def _remove_stale(folder: Path) -> None:
    """Temporary folders and pointer files left by a publisher that was killed (we hold the year's lock)."""
    for path in folder.iterdir():
        if path.name.startswith(TEMP_PREFIX) and path.is_dir() and not path.is_symlink():
            remove_tree(path)
        elif path.name.startswith((f".{LATEST_JSON}.", f".{LATEST_LINK}.")) and path.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                path.unlink()


def _point_latest(folder: Path, version: str, fingerprint: str, created: str) -> None:
    """Replace ``latest.json`` and the ``latest`` symlink atomically (write aside, then ``os.replace``)."""
    payload = {"version": version, "path": version, "datapackage": f"{version}/datapackage.json",
               "fingerprint": fingerprint, "created": created}
    aside = folder / f".{LATEST_JSON}.{os.getpid()}.tmp"
    link_aside = folder / f".{LATEST_LINK}.{os.getpid()}.tmp"
    try:
        with open(aside, "wb") as handle:
            handle.write(_json_bytes(payload))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(aside, folder / LATEST_JSON)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link_aside)
        os.symlink(version, link_aside)
        os.replace(link_aside, folder / LATEST_LINK)
        _fsync_dir(folder)
    finally:
        for leftover in (aside, link_aside):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


# ---------------------------------------------------------------------------------------------- validation


def validate_package(package_dir: Path) -> list[str]:
    """Frictionless validation of a release folder (data, keys, hashes); the errors as text, empty when valid."""
    import frictionless  # heavy import, only when validating

    report = frictionless.validate(str(package_dir / "datapackage.json"))
    if report.valid:
        return []
    messages = [f"package: {error.message}" for error in report.errors]
    for task in report.tasks:
        for error in task.errors:
            messages.append(f"{task.name}: {error.message}")
    return messages


# ---------------------------------------------------------------------------------------------- side files


def default_findings_summary(rendered: Rendered) -> dict[str, Any]:
    """Findings by rule and severity, from the findings and reports tables of the release."""
    table = rendered.tables["findings"]
    names = table.column_names
    rule_at, severity_at, report_at = names.index("rule"), names.index("severity"), names.index("report_id")
    by_rule: dict[str, dict[str, Any]] = {}
    reports_by_rule: dict[str, set[str]] = {}
    severities: Counter[str] = Counter()
    reports_with_errors: set[str] = set()
    for row in rendered.rows["findings"]:
        rule, severity, report = row[rule_at], row[severity_at], row[report_at]
        entry = by_rule.setdefault(rule, {"severity": severity, "findings": 0, "reports": 0})
        entry["findings"] += 1
        reports_by_rule.setdefault(rule, set()).add(report)
        severities[severity] += 1
        if severity == "error":
            reports_with_errors.add(report)
    for rule, reports in reports_by_rule.items():
        by_rule[rule]["reports"] = len(reports)
    return {
        "reports": len(rendered.rows["reports"]),
        "quarantined": len(rendered.rows.get("quarantine", [])),
        "findings": sum(severities.values()),
        "by_severity": {s: severities.get(s, 0) for s in ("error", "warning", "info")},
        "reports_with_errors": len(reports_with_errors),
        "by_rule": dict(sorted(by_rule.items())),
    }


def _changelog_entry(version: str, created: str, diff: dict[str, Any]) -> str:
    summary = diff["summary"]
    lines = [f"## {version} — {created[:10]} ({diff['bump']})", ""]
    if diff["from_version"] is None:
        lines.append(f"- First release: {summary['reports_added']} reports.")
    else:
        lines.append(f"- Against {diff['from_version']}: {summary['reports_added']} reports added, "
                     f"{summary['reports_removed']} removed, {summary['reports_changed']} changed; "
                     f"{summary['cells_changed']} cells changed, {summary['rows_added']} rows added, "
                     f"{summary['rows_removed']} removed.")
        for label, key in (("Added", "added"), ("Removed", "removed"), ("Changed", "changed")):
            ids = diff["reports"][key]
            if ids:
                shown = ", ".join(f"`{i}`" for i in ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
                lines.append(f"- {label} reports: {shown}.")
    schema = diff["schema"]
    if diff["from_version"] is not None and (schema["resources_added"] or schema["resources_removed"] or schema["columns"]):
        parts = [f"resources added {schema['resources_added']}" if schema["resources_added"] else "",
                 f"resources removed {schema['resources_removed']}" if schema["resources_removed"] else "",
                 *(f"{name}: +{c['added']} -{c['removed']}" for name, c in schema["columns"].items())]
        lines.append("- Schema: " + "; ".join(p for p in parts if p) + ".")
    if schema["constraints_changed"]:
        lines.append(f"- Constraints changed: {', '.join(schema['constraints_changed'])}.")
    if schema["descriptions_changed"]:
        lines.append(f"- Descriptions changed: {', '.join(schema['descriptions_changed'])}.")
    newly = diff["rules"]["newly_violated"]
    resolved = diff["rules"]["no_longer_violated"]
    if newly:
        lines.append(f"- Rules newly violated: {len(newly)} (" +
                     ", ".join(f"{v['rule']} in `{v['report_id']}`" for v in newly[:10]) +
                     (" …" if len(newly) > 10 else "") + ").")
    if resolved:
        lines.append(f"- Rules no longer violated: {len(resolved)}.")
    lines.append("- Details: `diff.json`.")
    return "\n".join(lines) + "\n"


def _changelog(year: int, entry: str, previous: Path | None) -> str:
    header = f"# Changelog: govreports {year}\n\nEvery version of this year's package, newest first.\n\n"
    older = ""
    if previous is not None and (previous / "CHANGELOG.md").is_file():
        text = (previous / "CHANGELOG.md").read_text(encoding="utf-8")
        marker = text.find("\n## ")
        older = text[marker + 1:] if marker >= 0 else ""
    return header + entry + ("\n" + older if older else "")


def _readme(year: int, version: str, created: str, fingerprint: str, rendered: Rendered,
            diff: dict[str, Any], side_files: list[str]) -> str:
    rows = []
    for name, table in rendered.tables.items():
        role = rendered.roles[name]
        files = f"`{csv_path(name, role)}`" + (f", `{parquet_path(name)}`" if role == "table" else "")
        rows.append(f"| `{name}` | {table.title} / {table.title_zh} | {len(rendered.rows[name])} | {files} |")
    table_lines = "\n".join(rows)
    previous = diff["from_version"]
    changes = (f"First release of {year}." if previous is None else
               f"Changes against {previous} ({diff['bump']}): {diff['summary']['reports_added']} reports added, "
               f"{diff['summary']['reports_removed']} removed, {diff['summary']['reports_changed']} changed, "
               f"{diff['summary']['cells_changed']} cells changed; see `diff.json` and `CHANGELOG.md`.")
    sides = "".join(f"- `{name}`\n" for name in side_files)
    return f"""# govreports {year}, version {version}

China's government information disclosure annual reports (政府信息公开工作年度报告) for report year {year},
as validated tables. Created {created}. Content fingerprint `{fingerprint}`.

{changes}

## Resources

| resource | title | rows | files |
| --- | --- | ---: | --- |
{table_lines}

Other files:
- `datapackage.json`: Frictionless Data Package (v2) with a Table Schema per table, sha256 hash and size per file
{sides}
## Load it (one line each, run in this folder)

```sh
frictionless validate datapackage.json
```

```python
import duckdb, frictionless, pandas as pd
rows = frictionless.Package("datapackage.json").get_resource("applications").read_rows()
df = pd.read_parquet("data/applications.parquet", dtype_backend="numpy_nullable")
rel = duckdb.sql("SELECT * FROM 'data/applications.parquet'")
```

## Notes

- Values are published as the agencies printed them, normalised (see each field's description); `raw` keeps the
  printed text. In the CSV files an empty cell is null, so an empty printed cell (`raw` = "") and an unknown
  one (`raw` null) both read as null; the Parquet files keep the difference.
- This folder is immutable: a correction is a new version. Versions follow semantic versioning per report year
  (columns change → major, data or constraints → minor, descriptions only → patch).

License: data CC-BY-4.0; the figures are the reporting agencies' own publications.
"""


# ---------------------------------------------------------------------------------------------- publishing


def _previous(releases_dir: Path, year: int) -> tuple[str | None, Path | None]:
    versions = list_versions(releases_dir, year)
    if not versions:
        return None, None
    return versions[-1], year_dir(releases_dir, year) / versions[-1]


def publish_release(
    frames: dict[str, pd.DataFrame],
    year: int,
    releases_dir: Path,
    *,
    expectations: dict[str, Any] | None = None,
    findings_summary: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
    validate: bool = True,
    tables: dict[str, Table] | None = None,
) -> Release:
    """Publish ``frames`` as the next version of ``year`` under ``releases_dir/<year>/``, or return the latest
    version unchanged (``created=False``) when its content fingerprint equals the new content's."""
    spec = load_spec()
    rendered = render(frames, year=year, tables=tables, spec=spec)
    folder = year_dir(releases_dir, year)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / LOCK_NAME, "a+b")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise PublishError(f"cannot publish into {folder}: {exc}") from exc
    with lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # one publisher per year at a time
        return _publish_locked(rendered, year, Path(releases_dir), folder, spec, expectations=expectations,
                               findings_summary=findings_summary, now=now, validate=validate)


def _publish_locked(rendered: Rendered, year: int, releases_dir: Path, folder: Path, spec: Spec, *,
                    expectations: dict[str, Any] | None, findings_summary: dict[str, Any] | None,
                    now: dt.datetime | None, validate: bool) -> Release:
    _remove_stale(folder)
    previous_version, previous_dir = _previous(releases_dir, year)
    previous = load_snapshot(previous_dir) if previous_dir is not None else None
    if previous is not None and previous.fingerprint == rendered.fingerprint:
        latest = read_latest(releases_dir, year)
        if not latest or latest.get("version") != previous_version:  # repair a pointer left behind by a crash
            try:
                _point_latest(folder, previous_version, previous.fingerprint or "",
                              previous.extra.get("created", ""))
            except OSError as exc:
                raise PublishError(f"{year} {previous_version} is current but latest could not be updated: "
                                   f"{exc}") from exc
        assert previous_dir is not None and previous_version is not None
        before = (previous.extra.get("govreports") or {}).get("previousVersion")
        return Release(previous_version, previous_dir, False, before, None, year, rendered.fingerprint)

    bump = bump_for(previous, rendered.snapshot(None)) or "patch"
    version = next_version(previous_version, bump)
    target = folder / version
    if target.exists() or target.is_symlink():
        raise ReleaseExistsError(f"{target} already exists; published versions are never overwritten")
    created = dp.format_created(now or dt.datetime.now(dt.UTC))
    diff = release_diff(previous, rendered.snapshot(version), rule_codes=set(spec.rules))
    summary = findings_summary if findings_summary is not None else default_findings_summary(rendered)

    temp: Path | None = None
    try:
        temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=folder))
        _write_release(temp, rendered, year=year, version=version, created=created, bump=bump,
                       previous_version=previous_version, previous_dir=previous_dir, diff=diff,
                       expectations=expectations, findings_summary=summary)
        if validate:
            errors = validate_package(temp)
            if errors:
                raise ReleaseInvalidError(f"{year} {version} does not validate ({len(errors)} errors): "
                                          + "; ".join(errors[:5]), errors)
        _make_read_only(temp)
        if target.exists():
            raise ReleaseExistsError(f"{target} already exists; published versions are never overwritten")
        os.rename(temp, target)
        temp = None
        _fsync_dir(folder)
    except PublishError:
        raise
    except Exception as exc:
        raise PublishError(f"publishing {year} {version} failed; nothing was published: {exc}") from exc
    finally:
        if temp is not None:
            remove_tree(temp)
    try:
        _point_latest(folder, version, rendered.fingerprint, created)
    except OSError as exc:
        raise PublishError(f"{year} {version} was published at {target} but latest could not be updated "
                           f"(it still names {previous_version}): {exc}") from exc
    return Release(version, target, True, previous_version, diff, year, rendered.fingerprint)


def _write_release(root: Path, rendered: Rendered, *, year: int, version: str, created: str, bump: str,
                   previous_version: str | None, previous_dir: Path | None, diff: dict[str, Any],
                   expectations: dict[str, Any] | None, findings_summary: dict[str, Any]) -> None:
    resources: list[dict[str, Any]] = []
    twins: list[dict[str, Any]] = []
    for name, table in rendered.tables.items():
        role = rendered.roles[name]
        entry = _write_file(root, csv_path(name, role), rendered.csv[name])
        resources.append(dp.csv_resource(table, entry, rows=len(rendered.rows[name]), role=role))
        if role == "table":
            twin = _write_file(root, parquet_path(name), parquet_bytes(table, rendered.rows[name]))
            twins.append(dp.parquet_resource(table, twin))
    resources.extend(twins)
    side_files = ["diff.json", "findings_summary.json"]
    resources.append(dp.json_file_resource(
        "diff", "Changes against the previous version", "machine-readable diff (format govreports-release-diff/1)",
        _write_file(root, "diff.json", _json_bytes(diff))))
    resources.append(dp.json_file_resource(
        "findings_summary", "Findings summary", "findings by rule and severity",
        _write_file(root, "findings_summary.json", _json_bytes(findings_summary))))
    if expectations is not None:
        side_files.append("expectations.json")
        resources.append(dp.json_file_resource(
            "expectations", "Expectation results", "results of the expectation suites run on these tables",
            _write_file(root, "expectations.json", _json_bytes(expectations))))
    descriptor = dp.package_descriptor(
        year=year, version=version, created=dt.datetime.fromisoformat(created.replace("Z", "+00:00")),
        resources=resources, content_fingerprint=rendered.fingerprint, previous_version=previous_version, bump=bump,
    )
    _write_file(root, "datapackage.json", _json_bytes(descriptor))
    _write_file(root, "CHANGELOG.md", _changelog(year, _changelog_entry(version, created, diff), previous_dir)
                .encode("utf-8"))
    _write_file(root, "README.md", _readme(year, version, created, rendered.fingerprint, rendered, diff, side_files)
                .encode("utf-8"))


__all__ = ["PublishError", "Release", "ReleaseExistsError", "ReleaseInvalidError", "list_versions", "publish_release",
           "read_latest", "render", "validate_package"]
