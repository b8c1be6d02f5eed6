"""Manifests: where collected report files came from, saved beside them by the collector.

A manifest is ``manifest.csv`` (header row) or ``manifest.jsonl`` (one JSON object a line) in the folder of the
files it describes, with the columns ``file`` (required: the file's name, or its path relative to the folder),
``url``, ``agency``, ``region``, ``region_code``, ``year``, ``fetched_at`` and ``title``; other columns are
kept as they are.  Its values take precedence over what the parser infers from the text (agency, report year,
region): where the two disagree the record keeps the manifest's value and gets a ``manifest_disagrees``
finding.  The record's ``source`` keeps ``url``, ``fetched_at`` and ``title``.

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


def _rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    data = path.read_bytes()
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path.name}: {len(data)} bytes exceeds the limit of {MAX_MANIFEST_BYTES}")
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
    rows: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames or "file" not in [str(f).strip().lower() for f in reader.fieldnames]:
            raise ManifestError(f"{path.name}: the header has no 'file' column")
        for row in reader:
            if None in row:
                raise ManifestError(f"{path.name} line {reader.line_num}: more cells than header columns")
            if any(_text(v) for v in row.values()):
                rows.append((f"{path.name} line {reader.line_num}", row))
        return rows
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{path.name} line {number}: {error}") from None
        if not isinstance(row, dict):
            raise ManifestError(f"{path.name} line {number}: not a JSON object")
        rows.append((f"{path.name} line {number}", row))
    return rows


def load_manifest(directory: str | Path) -> dict[str, ManifestEntry]:
    """Entries of the manifest(s) in ``directory`` by file name (path relative to the directory); ``{}`` when
    there is none.  Raises :class:`ManifestError` for a manifest that cannot be trusted."""
    directory = Path(directory)
    entries: dict[str, ManifestEntry] = {}
    for name in MANIFEST_NAMES:
        path = directory / name
        if not path.is_file():
            continue
        for where, row in _rows(path):
            entry = _entry(row, where, name)
            known = entries.get(entry.file)
            if known is not None and known != entry:
                raise ManifestError(f"{where}: {entry.file} is listed twice with different values")
            entries[entry.file] = entry
    return entries


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for name in MANIFEST_NAMES:
        try:
            stat = (directory / name).stat()
        except OSError:
            continue
        out.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@lru_cache(maxsize=64)
def _cached(directory: str, signature: tuple[tuple[str, int, int], ...]) -> dict[str, ManifestEntry] | ManifestError:
    try:
        return load_manifest(directory)
    except ManifestError as error:
        return error
    except OSError as error:
        return ManifestError(f"cannot read the manifest: {error}")


def entry_for(path: str | Path) -> ManifestEntry | None:
    """The manifest entry for the file at ``path`` (from a manifest in its folder), if any.

    Manifests are read once per folder and re-read when they change.  Raises :class:`ManifestError`."""
    path = Path(path)
    directory = path.parent
    signature = _signature(directory)
    if not signature:
        return None
    loaded = _cached(os.fspath(directory), signature)
    if isinstance(loaded, ManifestError):
        raise loaded
    return loaded.get(_key(path.name))


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
        _recheck_template(record, metadata, findings)
    return record


def _recheck_template(record: dict[str, Any], metadata: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    """The year-versus-tables check of the parser, redone for the manifest's year."""
    year = metadata["report_year"]
    tables_template = metadata.get("template") if metadata.get("template") in ("2019", "2021") else None
    if tables_template is None:
        if metadata.get("template") is None and year <= 2018 and record.get("reason") == "no_standard_tables":
            metadata["template"] = "pre2019"
        return
    findings[:] = [f for f in findings if not (f.get("rule") == "template_mismatch" and not f.get("cells"))]
    expected = "2019" if year <= 2020 else "2021"
    if year <= 2018 or expected != tables_template:
        findings.append(_finding("template_mismatch",
                                 f"report year {year} but tables follow the {tables_template} template"))


def annotate(record: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The parser's hook: apply the manifest entry for ``path``, if its folder has a manifest listing it.

    A manifest that cannot be trusted is not applied; the record says so with a ``manifest_invalid``
    finding."""
    try:
        entry = entry_for(path)
    except ManifestError as error:
        record.setdefault("findings", []).append(_finding("manifest_invalid", str(error)))
        return record
    return record if entry is None else apply_manifest(record, entry)
