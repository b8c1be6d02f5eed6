"""Parsed records (CONTRACT.md JSON) → tidy pandas tables shaped by ``govreports.columns``.

What belongs here: reshaping and typing.  Validation lives in ``govreports.schemas`` and
``govreports.checks``; nothing here drops, corrects or reorders a published value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pandas as pd

from govreports.columns import TABLE_NAMES, Table, build_tables

_PANDAS_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
                  "date": "datetime64[us]"}


def _lines(span: dict[str, Any] | None) -> str | None:
    if not span:
        return None
    return f"{span['start_line']}-{span['end_line']}"


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _region(meta: dict[str, Any]) -> dict[str, Any]:
    """``metadata.region`` as the contract gives it (an object: ``name``, ``code``), or nothing."""
    region = meta.get("region")
    return region if isinstance(region, dict) else {}


def _detail(finding: dict[str, Any]) -> tuple[Any, Any]:
    """A finding's (expected, actual).  Rule findings carry them as such; a ``manifest_disagrees`` finding names
    the manifest's value and the one it disagrees with: the partition's (the year folder's) when that overruled
    the manifest's report year (``govreports.build``), else the text's."""
    if "manifest_value" in finding and "expected" not in finding and "actual" not in finding:
        other = finding["partition_value"] if "partition_value" in finding else finding.get("text_value")
        return finding["manifest_value"], other
    return finding.get("expected"), finding.get("actual")


def empty_frame(table: Table) -> pd.DataFrame:
    return typed_frame(table, [])


def typed_frame(table: Table, rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=table.column_names)
    for column in table.columns:
        dtype = _PANDAS_DTYPES[column.type]
        if column.type == "date":
            frame[column.name] = pd.to_datetime(frame[column.name], errors="coerce").astype("datetime64[us]")
        elif column.type == "integer":
            frame[column.name] = pd.to_numeric(frame[column.name], errors="coerce").astype("Int64")
        elif column.type == "number":
            frame[column.name] = pd.to_numeric(frame[column.name], errors="coerce").astype("Float64")
        else:
            frame[column.name] = frame[column.name].astype(dtype)
    if table.sort_by and len(frame):
        frame = frame.sort_values(list(table.sort_by), kind="stable").reset_index(drop=True)
    return frame


class TableBuilder:
    """Accumulates records and yields one DataFrame per table; streaming-friendly (call ``add`` per record)."""

    def __init__(self) -> None:
        self.tables = build_tables()
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_NAMES}

    def add(self, record: dict[str, Any]) -> None:
        source = record.get("source") or {}
        if record["status"] == "quarantined":
            self.rows["quarantine"].append({
                "source_sha256": source.get("sha256"), "source_path": source.get("path"),
                "source_bytes": source.get("bytes"), "reason": record.get("reason"),
                "message": record.get("message"), "parser_version": record.get("parser_version"),
            })
            return
        report_id = record["report_id"]
        meta = record.get("metadata") or {}
        spans = (record.get("layout") or {}).get("tables") or {}
        severities = {"error": 0, "warning": 0, "info": 0}
        for finding in record.get("findings", []):
            severities[finding["severity"]] = severities.get(finding["severity"], 0) + 1
        region = _region(meta)
        self.rows["reports"].append({
            "report_id": report_id, "status": record["status"], "reason": record.get("reason"),
            "agency": meta.get("agency"), "region": region.get("name"), "region_code": region.get("code"),
            "report_year": meta.get("report_year"), "template": meta.get("template"),
            "published_on": meta.get("published_on"), "index_number": meta.get("index_number"),
            "title": meta.get("title"), "source_path": source.get("path"), "source_url": source.get("url"),
            "source_fetched_at": source.get("fetched_at"), "source_sha256": source.get("sha256"),
            "source_bytes": source.get("bytes"), "source_format": source.get("format"),
            "encoding": source.get("encoding"), "parser_version": record.get("parser_version"),
            "active_disclosure_lines": _lines(spans.get("active_disclosure")),
            "applications_lines": _lines(spans.get("applications")),
            "appeals_lines": _lines(spans.get("appeals")),
            "findings_error": severities["error"], "findings_warning": severities["warning"],
            "findings_info": severities["info"],
        })
        for cell in record.get("active_disclosure", []):
            self.rows["active_disclosure"].append({
                "report_id": report_id, "item": cell["item"], "metric": cell["metric"], "value": cell["value"],
                "raw": cell["raw"], "ambiguous": bool(cell.get("ambiguous")), "line": cell.get("line"),
                "unit": cell.get("unit"),
            })
        for cell in record.get("applications", []):
            self.rows["applications"].append({
                "report_id": report_id, "row": cell["row"], "applicant": cell["applicant"], "value": cell["value"],
                "raw": cell["raw"], "ambiguous": bool(cell.get("ambiguous")), "line": cell.get("line"),
            })
        for cell in record.get("appeals", []):
            self.rows["appeals"].append({
                "report_id": report_id, "proceeding": cell["proceeding"], "outcome": cell["outcome"],
                "value": cell["value"], "raw": cell["raw"], "ambiguous": bool(cell.get("ambiguous")),
                "line": cell.get("line"),
            })
        for section in record.get("sections", []):
            self.rows["sections"].append({"report_id": report_id, **section})
        for number, finding in enumerate(record.get("findings", [])):
            expected, actual = _detail(finding)
            self.rows["findings"].append({
                "report_id": report_id, "finding_no": number, "rule": finding["rule"],
                "severity": finding["severity"], "message": finding.get("message"),
                "cells": ";".join(finding.get("cells") or []), "expected": _json(expected), "actual": _json(actual),
            })

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: typed_frame(self.tables[name], rows) for name, rows in self.rows.items()}


def records_to_frames(records: Iterable[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    builder = TableBuilder()
    for record in records:
        builder.add(record)
    return builder.frames()


def wide_view(frames: dict[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """One row per report, one column per cell (``item__metric`` / ``row__applicant`` / ``proceeding__outcome``)."""
    keys = {"active_disclosure": ("item", "metric"), "applications": ("row", "applicant"),
            "appeals": ("proceeding", "outcome")}[table]
    long = frames[table]
    if long.empty:
        return pd.DataFrame({"report_id": pd.Series(dtype="string")})
    names = long[keys[0]].astype(str) + "__" + long[keys[1]].astype(str)
    wide = long.assign(cell=names).pivot(index="report_id", columns="cell", values="value")
    wide.columns.name = None
    return wide.reset_index()
