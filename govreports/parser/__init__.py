"""Parse one raw report into the record of CONTRACT.md.

``parse_bytes`` never raises on bad input: whatever cannot be read becomes a quarantined record with a
machine-readable ``reason``.  The parser is pure Python and imports no orchestration code.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from govreports import __version__
from govreports.parser.metadata import extract_metadata
from govreports.parser.sections import extract_sections
from govreports.parser.tables import TableReader
from govreports.readers import Unreadable, read_bytes
from govreports.readers.html import to_plain_text
from govreports.readers.manifest import annotate
from govreports.rules import check_report, prove_blank_zeros
from govreports.spec import load_spec

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_REPORT_WORDS = re.compile(r"政府信息公开|政务公开")
_REPORT_KIND = re.compile(r"年度报告|年报|工作报告")


def report_id_for(text: str) -> str:
    """Stable id: sha256 of the report text with all white space removed, so that re-wrapped or re-indented
    copies of the same text share an id."""
    normalised = "".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]


def _source(path: str | None, data: bytes, fmt: str | None) -> dict[str, Any]:
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "format": fmt}


def quarantined(path: str | None, data: bytes, reason: str, message: str, fmt: str | None = None) -> dict[str, Any]:
    return {
        "report_id": None,
        "status": "quarantined",
        "reason": reason,
        "message": message,
        "parser_version": __version__,
        "source": _source(path, data, fmt),
        "metadata": None,
        "active_disclosure": [],
        "applications": [],
        "appeals": [],
        "sections": [],
        "findings": [],
    }


def parse_text(text: str, *, path: str | None = None, data: bytes | None = None, fmt: str = "text",
               encoding: str | None = None, rendered: bool = False) -> dict[str, Any]:
    """Parse decoded text; HTML pages are flattened first unless ``rendered`` says a reader already did."""
    spec = load_spec()
    raw_bytes = data if data is not None else text.encode("utf-8")
    if rendered:  # a reader's output (govreports.readers): already in the layout the table reader reads
        plain = text
    else:
        plain, detected = to_plain_text(text)
        fmt = detected if fmt == "text" else fmt
    plain = plain.replace("\r\n", "\n").replace("\r", "\n")
    reader = TableReader(plain, spec)
    tables = reader.read()
    metadata = extract_metadata(plain)
    has_tables = tables.template is not None
    if not has_tables and not (_REPORT_WORDS.search(plain[:50_000]) and _REPORT_KIND.search(plain[:50_000])):
        return quarantined(path, raw_bytes, "not_a_report",
                           "no standard tables and no mention of a government information disclosure report", fmt)
    sections = extract_sections(plain)
    findings: list[dict[str, Any]] = []
    template = tables.template
    if template is None:
        template = "pre2019" if (metadata.report_year or 9999) <= 2018 else None
    for code, message in metadata.notes:
        findings.append({"rule": code, "severity": spec.severity(code), "message": message, "cells": []})
    if tables.template and metadata.report_year:
        expected = "2019" if metadata.report_year <= 2020 else "2021"
        if metadata.report_year <= 2018 or expected != tables.template:
            findings.append({"rule": "template_mismatch", "severity": spec.severity("template_mismatch"),
                             "message": f"report year {metadata.report_year} but tables follow the {tables.template} template",
                             "cells": []})
    findings.extend(tables.findings)
    for table in ("applications", "appeals"):
        if table in tables.with_blank_cells:
            findings.extend(prove_blank_zeros(tables.cells[table], table))
    findings.extend(check_report(tables.template, tables.cells, spec))
    found_numbers = {s.number for s in sections}
    for section in spec.sections:
        if section.number not in found_numbers:
            findings.append({"rule": "missing_section", "severity": spec.severity("missing_section"),
                             "message": f"section {section.number} ({section.zh}) not found", "cells": []})
    missing_tables = [t for t in ("active_disclosure", "applications", "appeals") if not tables.cells[t]]
    if not has_tables:
        status, reason = "partial", "no_standard_tables"
    elif missing_tables:
        status, reason = "partial", "missing_table"
    else:
        status, reason = "parsed", None
    spans = {name: {"start_line": s.start_line, "end_line": s.end_line, "start_offset": s.start, "end_offset": s.end}
             for name, s in tables.spans.items()}
    return {
        "report_id": report_id_for(plain),
        "status": status,
        "reason": reason,
        "parser_version": __version__,
        "source": {**_source(path, raw_bytes, fmt), "encoding": encoding},
        "metadata": {
            "agency": metadata.agency,
            "report_year": metadata.report_year,
            "template": template,
            "published_on": metadata.published_on,
            "index_number": metadata.index_number,
            "region": None,
            "title": metadata.title,
        },
        "layout": {"flattened": tables.flattened, "tables": spans},
        "active_disclosure": tables.cells["active_disclosure"],
        "applications": tables.cells["applications"],
        "appeals": tables.cells["appeals"],
        "sections": [{"number": s.number, "title": s.title, "text": s.text} for s in sections],
        "findings": findings,
    }


def parse_bytes(data: bytes, path: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Parse raw bytes of any supported format (text, HTML, DOCX, PDF; told by content); bad input yields a
    quarantined record, never an exception."""
    try:
        document = read_bytes(data, max_bytes=max_bytes)
        return parse_text(document.text, path=path, data=data, fmt=document.fmt, encoding=document.encoding,
                          rendered=True)
    except Unreadable as error:
        return quarantined(path, data, error.reason, error.detail, error.fmt)
    except RecursionError as error:  # pathological nesting in hostile HTML
        return quarantined(path, data, "parser_error", f"{type(error).__name__}: {error}")
    except Exception as error:  # noqa: BLE001 - one bad file must never stop a run; the reason says what broke
        return quarantined(path, data, "parser_error", f"{type(error).__name__}: {error}")


def parse_path(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, manifest: bool = True) -> dict[str, Any]:
    """Parse a file; with ``manifest`` (the default) a manifest beside it (govreports.readers.manifest) is
    applied to the record."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            record = quarantined(str(path), b"", "too_large", f"{size} bytes exceeds the limit of {max_bytes}")
        else:
            record = parse_bytes(path.read_bytes(), str(path), max_bytes=max_bytes)
    except OSError as error:
        record = quarantined(str(path), b"", "unreadable", f"{type(error).__name__}: {error}")
    return annotate(record, path) if manifest else record
