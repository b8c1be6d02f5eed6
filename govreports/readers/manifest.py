"""Manifests: where collected report files came from, saved beside them by the collector.

A manifest is ``manifest.csv`` (header row) or ``manifest.jsonl`` (one JSON object a line) in the folder of the
files it describes, with the columns ``file`` (required: the file's name, or its path relative to the folder),
``url``, ``agency``, ``region``, ``region_code``, ``year``, ``fetched_at`` and ``title``; other columns are
kept as they are.  Its values take precedence over what the parser infers from the text (agency, report year,
region): where the two disagree the record keeps the manifest's value and gets a ``manifest_disagrees``
finding.  (In the pipeline a year folder outranks the manifest's year: ``govreports.build`` files the record
under its folder's year and replaces that finding with one naming both.)  The record's ``source`` keeps ``url``,
``fetched_at`` and ``title``.  A manifest that cannot be trusted is applied to none of the files beside it, and
each of their records says so (``manifest_invalid``).  Given the landing folder (``root``), manifests are read
as the pipeline reads report files: not through a symlink out of it, not from a FIFO or device, not past the
size limit.

What belongs here: reading manifests and applying an entry to a parsed record.  What does not: parsing the
report itself (``govreports.parser``) or fetching anything (nothing here touches the network).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from govreports.safe_read import UNREADABLE, read_limited

MANIFEST_NAMES = ("manifest.csv", "manifest.jsonl", "manifest.ndjson")
KNOWN_FIELDS = ("file", "url", "agency", "region", "region_code", "year", "fetched_at", "title")
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_SPACE_AND_BRACKETS = re.compile(r"[\s()（）]+")


class ManifestError(ValueError):
    """A manifest that cannot be trusted as a whole (bad syntax, a bad value, one file listed twice)."""


@dataclass(frozen=True)
class ManifestEntry:
    file: str
    url: str | None = None
    agency: str | None = None
    region: str | None = None
    region_code: str | None = None
    year: int | None = None
    fetched_at: str | None = None
    title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    manifest: str | None = None  # the manifest file's name


def is_manifest(path: str | Path) -> bool:
    """True for a file that is a manifest (to be skipped when collecting report files)."""
    return Path(path).name.lower() in MANIFEST_NAMES


def _key(name: str) -> str:
    key = name.strip().replace("\\", "/")
    while key.startswith("./"):
        key = key[2:]
    return key


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _entry(row: dict[str, Any], where: str, manifest: str) -> ManifestEntry:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    file = _text(lowered.get("file"))
    if file is None:
        raise ManifestError(f"{where}: no file name")
    year_text = _text(lowered.get("year"))
    year = None
    if year_text is not None:
        if not re.fullmatch(r"\d{4}(?:\.0)?", year_text) or not 1990 <= int(float(year_text)) <= 2100:
            raise ManifestError(f"{where}: year {year_text!r} is not a report year")
        year = int(float(year_text))
    fetched_at = _text(lowered.get("fetched_at"))
    if fetched_at is not None:
        try:
            datetime.fromisoformat(fetched_at.replace("Z", "+00:00"))
        except ValueError:
            raise ManifestError(f"{where}: fetched_at {fetched_at!r} is not an ISO 8601 date/time") from None
    extra = {k: v for k, v in lowered.items() if k not in KNOWN_FIELDS and _text(v) is not None}
    return ManifestEntry(file=_key(file), url=_text(lowered.get("url")), agency=_text(lowered.get("agency")),
                         region=_text(lowered.get("region")), region_code=_text(lowered.get("region_code")),
                         year=year, fetched_at=fetched_at, title=_text(lowered.get("title")), extra=extra,
                         manifest=manifest)


def _read(path: Path, root: Path | None) -> bytes:
    """The manifest's bytes, read as the pipeline reads report files (``govreports.safe_read``); without ``root``
    (the CLI) a symlinked manifest is the user's own and is followed."""
    data = read_limited(path, MAX_MANIFEST_BYTES, root, follow_symlinks=root is None)
    if isinstance(data, tuple):
        reason, message = data
        raise ManifestError(f"{path.name}: cannot be read ({message})" if reason == UNREADABLE
                            else f"{path.name}: {message}")
    return data


def _csv_rows(reader: csv.DictReader, name: str) -> list[tuple[str, dict[str, Any]]]:
    if not reader.fieldnames or "file" not in [str(f).strip().lower() for f in reader.fieldnames]:
        raise ManifestError(f"{name}: the header has no 'file' column")
    rows: list[tuple[str, dict[str, Any]]] = []
    for row in reader:
        if None in row:
            raise ManifestError(f"{name} line {reader.line_num}: more cells than header columns")
        if any(_text(v) for v in row.values()):
            rows.append((f"{name} line {reader.line_num}", row))
    return rows


def _rows(path: Path, root: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    data = _read(path, root)
    if not data.strip():
        return []
    text = None
    for encoding in ("utf-8-sig", "gb18030"):  # spreadsheet tools save CSV as UTF-8 (with a BOM) or as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        raise ManifestError(f"{path.name}: neither UTF-8 nor GB18030 text")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            return _csv_rows(reader, path.name)
        except csv.Error as error:  # e.g. a cell over the csv module's field size limit
            raise ManifestError(f"{path.name} line {reader.line_num}: {error}") from None
    rows: list[tuple[str, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as error:  # RecursionError: absurdly deep nesting
            raise ManifestError(f"{path.name} line {number}: {type(error).__name__}: {error}") from None
        if not isinstance(row, dict):
            raise ManifestError(f"{path.name} line {number}: not a JSON object")
        rows.append((f"{path.name} line {number}", row))
    return rows


def load_manifest(directory: str | Path, root: str | Path | None = None) -> dict[str, ManifestEntry]:
    """Entries of the manifest(s) in ``directory`` by file name (path relative to the directory); ``{}`` when
    there is none.  With ``root`` (the landing folder) a manifest that resolves outside it is not read.  Raises
    :class:`ManifestError` for a manifest that cannot be trusted or read (a FIFO or a folder under a manifest's
    name included: a manifest that is there but not applied must never go unnoticed)."""
    directory = Path(directory)
    root = Path(root) if root is not None else None
    entries: dict[str, ManifestEntry] = {}
    for name in MANIFEST_NAMES:
        path = directory / name
        if not os.path.lexists(path):
            continue
        for where, row in _rows(path, root):
            entry = _entry(row, where, name)
            known = entries.get(entry.file)
            if known is not None and known != entry:
                raise ManifestError(f"{where}: {entry.file} is listed twice with different values")
            entries[entry.file] = entry
    return entries


def _signature(directory: Path) -> tuple[tuple[str, int, int, int, int], ...]:
    """What tells a changed manifest from a cached one: inode and change time catch a rewrite that keeps the
    size and modification time (an editor saving by rename, a tool that restores the mtime)."""
    out = []
    for name in MANIFEST_NAMES:
        path = directory / name
        try:
            info = path.stat()
        except OSError:
            try:
                info = path.lstat()  # a dangling symlink: present, so it must be reported, not ignored
            except OSError:
                continue
        out.append((name, info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size))
    return tuple(out)


@lru_cache(maxsize=64)
def _cached(directory: str, signature: tuple[tuple[str, int, int, int, int], ...],
            root: str | None) -> dict[str, ManifestEntry] | ManifestError:
    try:
        return load_manifest(directory, root)
    except ManifestError as error:
        return error
    except OSError as error:
        return ManifestError(f"cannot read the manifest: {error}")


def _loaded(directory: Path, root: str | Path | None) -> dict[str, ManifestEntry] | ManifestError:
    """The folder's manifest entries (or why they cannot be trusted), read once per folder and again when a
    manifest changes."""
    signature = _signature(directory)
    if not signature:
        return {}
    return _cached(os.fspath(directory), signature, os.fspath(root) if root is not None else None)


def entry_for(path: str | Path, root: str | Path | None = None) -> ManifestEntry | None:
    """The manifest entry for the file at ``path`` (from a manifest in its folder), if any.

    Manifests are read once per folder and re-read when they change; with ``root`` (the landing folder) a
    manifest resolving outside it is not read.  Raises :class:`ManifestError`."""
    path = Path(path)
    loaded = _loaded(path.parent, root)
    if isinstance(loaded, ManifestError):
        raise loaded
    return loaded.get(_key(path.name))


def manifest_problem(path: str | Path, root: str | Path | None = None) -> str | None:
    """Why the manifest at ``path`` is not applied to the files beside it; ``None`` when it is.

    The folder's manifests are refused together (``load_manifest``), so a broken ``manifest.jsonl`` is also the
    problem of a sound ``manifest.csv`` beside it."""
    path = Path(path)
    if path.name not in MANIFEST_NAMES:  # is_manifest ignores case; the readers look for these names only
        return (f"{path.name}: not read; a manifest must be named {' or '.join(MANIFEST_NAMES)} (lower case)")
    loaded = _loaded(path.parent, root)
    return str(loaded) if isinstance(loaded, ManifestError) else None


def _same(field_name: str, text_value: Any, manifest_value: Any) -> bool:
    if field_name == "agency":
        return _SPACE_AND_BRACKETS.sub("", str(text_value)) == _SPACE_AND_BRACKETS.sub("", str(manifest_value))
    return text_value == manifest_value


def _finding(rule: str, message: str, **extra: Any) -> dict[str, Any]:
    from govreports.spec import load_spec

    return {"rule": rule, "severity": load_spec().severity(rule), "message": message, "cells": [], **extra}


def apply_manifest(record: dict[str, Any], entry: ManifestEntry) -> dict[str, Any]:
    """Apply a manifest entry to a parsed record (in place; the record is returned).

    ``source`` gains ``url``, ``fetched_at``, ``title`` and ``manifest``; ``metadata.agency``,
    ``report_year`` and ``region`` take the manifest's values, each disagreement with the text becoming a
    ``manifest_disagrees`` finding (the text's value is kept in the finding)."""
    source = record.setdefault("source", {})
    for key in ("url", "fetched_at", "title"):
        value = getattr(entry, key)
        if value is not None:
            source[key] = value
    if entry.extra:
        source["manifest_extra"] = dict(entry.extra)
    source["manifest"] = entry.manifest
    metadata = record.get("metadata")
    if metadata is None:  # quarantined: nothing was read from the text
        return record
    findings = record.setdefault("findings", [])
    region = None
    if entry.region is not None or entry.region_code is not None:
        region = {k: v for k, v in (("name", entry.region), ("code", entry.region_code)) if v is not None}
    applied: list[str] = []
    for key, value in (("agency", entry.agency), ("report_year", entry.year), ("region", region)):
        if value is None:
            continue
        text_value = metadata.get(key)
        if text_value is not None and not _same(key, text_value, value):
            findings.append(_finding("manifest_disagrees", f"{key}: the manifest says {value!r}, the text says "
                                     f"{text_value!r}; the manifest's value is kept",
                                     field=key, manifest_value=value, text_value=text_value))
        metadata[key] = value
        applied.append(key)
    if entry.title is not None and not metadata.get("title"):
        metadata["title"] = entry.title
        applied.append("title")
    if not applied:
        return record
    metadata["from_manifest"] = applied
    settled = {"agency_uncertain"} if "agency" in applied else set()
    if "report_year" in applied:
        settled.add("year_uncertain")
    record["findings"] = findings = [f for f in findings if f.get("rule") not in settled]
    if "report_year" in applied:
        recheck_template(record)
    return record


def recheck_template(record: dict[str, Any]) -> None:
    """The year-versus-tables check of the parser, redone for the record's report year once something other than
    the text decided it (the manifest here; the year folder in ``govreports.build``)."""
    metadata = record["metadata"]
    findings = record.setdefault("findings", [])
    year = metadata["report_year"]
    tables_template = metadata.get("template") if metadata.get("template") in ("2019", "2021") else None
    if tables_template is None:
        if record.get("reason") == "no_standard_tables":  # no tables: the template follows the year, as the parser's
            metadata["template"] = "pre2019" if year <= 2018 else None
        return
    findings[:] = [f for f in findings if not (f.get("rule") == "template_mismatch" and not f.get("cells"))]
    expected = "2019" if year <= 2020 else "2021"
    if year <= 2018 or expected != tables_template:
        findings.append(_finding("template_mismatch",
                                 f"report year {year} but tables follow the {tables_template} template"))


def annotate(record: dict[str, Any], path: str | Path, root: str | Path | None = None) -> dict[str, Any]:
    """The parser's hook: apply the manifest entry for ``path``, if its folder has a manifest listing it
    (``root``: see ``entry_for``).

    A manifest that cannot be trusted is not applied; the record says so with a ``manifest_invalid``
    finding."""
    try:
        entry = entry_for(path, root)
    except ManifestError as error:
        record.setdefault("findings", []).append(_finding("manifest_invalid", str(error)))
        return record
    return record if entry is None else apply_manifest(record, entry)
