"""``datapackage.json`` of a release, generated from the column model and the template spec.

What belongs here: the Frictionless Table Schema of every resource (from ``govreports.columns`` and
``datapackage.codelists``: types, constraints, descriptions, Chinese and English titles, enums with the codes'
titles, ``primaryKey``, ``foreignKeys``, ``missingValues``), the resource entries (CSV tables, their Parquet twins
as plain ``file`` resources, the release's JSON side files), the package metadata (name, title, version,
created, licenses, sources, contributors) and the content fingerprint.  What does not: writing files or deciding
versions (``publish``), or listing any column by hand: a new column is one edit in ``govreports.columns``.

Parquet twins are declared ``"type": "file"``: ``frictionless validate`` checks their hash and bytes only (its
Parquet reader gives false constraint errors on nulls), and the data, keys and constraints are validated on the
CSV resource named in their ``sameTableAs`` property.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from datapackage.codelists import CODED_COLUMNS
from govreports.columns import Column, Table

DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
MISSING_VALUES = [""]
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"

LICENSES = [{
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}]
SOURCES = [{
    "title": "Government information disclosure annual reports (政府信息公开工作年度报告) published by the "
             "reporting agencies under the Regulations on Open Government Information (中华人民共和国政府信息公开条例); "
             "each report's own publication is named in the reports table (agency, title, index_number, "
             "source_url, source_fetched_at, source_sha256)",
}]
CONTRIBUTORS = [{
    "title": "govreports",
    "roles": ["creator"],
}]
KEYWORDS = ["government information disclosure", "open government information", "政府信息公开", "年度报告", "China"]


def humanise(name: str) -> str:
    return name.replace("_", " ").capitalize()


def field_descriptor(table: Table, column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {
        "name": column.name,
        "type": column.type,
        "title": humanise(column.name),
        "titleZh": column.title_zh or None,
        "description": column.description,
    }
    if column.type == "date":
        field["format"] = "default"
    if column.type == "boolean":
        field["trueValues"] = ["true"]
        field["falseValues"] = ["false"]
    constraints: dict[str, Any] = {}
    if column.required or column.name in table.primary_key:
        constraints["required"] = True
    if column.minimum is not None:
        minimum = column.minimum
        constraints["minimum"] = int(minimum) if column.type == "integer" else minimum
    if column.enum is not None:
        constraints["enum"] = list(column.enum)
    if constraints:
        field["constraints"] = constraints
    if column.enum_titles:
        field["enumTitles"] = {code: dict(titles) for code, titles in column.enum_titles.items()}
    code_list = CODED_COLUMNS.get(f"{table.name}.{column.name}")
    if code_list:
        field["codeList"] = code_list
    return {key: value for key, value in field.items() if value is not None}


def table_schema(table: Table) -> dict[str, Any]:
    """Frictionless Table Schema of one table, from its column model."""
    schema: dict[str, Any] = {
        "fields": [field_descriptor(table, column) for column in table.columns],
        "missingValues": list(MISSING_VALUES),
        "primaryKey": list(table.primary_key),
    }
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": list(columns), "reference": {"resource": target, "fields": list(target_columns)}}
            for columns, target, target_columns in table.foreign_keys
        ]
    return schema


def schema_core(schema: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Table Schema that constrain data (what a minor/major bump looks at)."""
    return {
        "fields": [{k: v for k, v in f.items() if k in ("name", "type", "format", "constraints", "trueValues",
                                                         "falseValues")} for f in schema["fields"]],
        "primaryKey": schema.get("primaryKey"),
        "foreignKeys": schema.get("foreignKeys"),
        "missingValues": schema.get("missingValues"),
    }


def columns_signature(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Column names and types in order: when these differ between releases, the bump is major."""
    return [(f["name"], f["type"]) for f in schema["fields"]]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileEntry:
    """One file of a release: where it lives in the release and what it hashes to."""

    path: str
    sha256: str
    bytes: int

    @classmethod
    def of(cls, path: str, data: bytes) -> FileEntry:
        return cls(path, sha256_hex(data), len(data))

    @property
    def hash(self) -> str:
        return f"sha256:{self.sha256}"


def csv_resource(table: Table, entry: FileEntry, *, rows: int, role: str) -> dict[str, Any]:
    return {
        "name": table.name,
        "type": "table",
        "path": entry.path,
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": table.title,
        "titleZh": table.title_zh,
        "description": table.description,
        "role": role,
        "rowCount": rows,
        "dialect": {"delimiter": ",", "quoteChar": '"', "header": True},
        "schema": table_schema(table),
        "hash": entry.hash,
        "bytes": entry.bytes,
    }


def parquet_resource(table: Table, entry: FileEntry) -> dict[str, Any]:
    return {
        "name": f"{table.name}_parquet",
        "type": "file",
        "path": entry.path,
        "scheme": "file",
        "format": "parquet",
        "mediatype": PARQUET_MEDIATYPE,
        "title": f"{table.title} (Parquet)",
        "description": f"the rows of the CSV resource `{table.name}` in Parquet, typed by the same Table Schema; "
                       f"validate the CSV resource",
        "sameTableAs": table.name,
        "hash": entry.hash,
        "bytes": entry.bytes,
    }


def json_file_resource(name: str, title: str, description: str, entry: FileEntry) -> dict[str, Any]:
    return {
        "name": name, "type": "file", "path": entry.path, "scheme": "file", "format": "json",
        "mediatype": "application/json", "encoding": "utf-8", "title": title, "description": description,
        "hash": entry.hash, "bytes": entry.bytes,
    }


def fingerprint(schemas: dict[str, dict[str, Any]], data_hashes: dict[str, str]) -> str:
    """Content fingerprint of a release: the CSV data files and their Table Schemas, nothing else.

    Timestamps, versions, the Parquet twins (derived from the CSV rows), README/CHANGELOG and the side files
    (diff, expectation results, findings summary) are deliberately outside it.
    """
    content = {name: {"sha256": data_hashes[name], "schema": schemas[name]} for name in sorted(data_hashes)}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + sha256_hex(text.encode("utf-8"))


def package_name(year: int) -> str:
    return f"govreports-{year}"


def format_created(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def package_descriptor(
    *,
    year: int,
    version: str,
    created: dt.datetime,
    resources: list[dict[str, Any]],
    content_fingerprint: str,
    previous_version: str | None,
    bump: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole ``datapackage.json`` (Data Package v2 profile)."""
    return {
        "$schema": DATAPACKAGE_PROFILE,
        "name": package_name(year),
        "id": f"{package_name(year)}@{version}",
        "title": f"China government information disclosure annual reports, report year {year}",
        "titleZh": f"{year}年度政府信息公开工作年度报告数据",
        "description": (
            f"Tables parsed from the government information disclosure annual reports (政府信息公开工作年度报告) "
            f"for report year {year}: report metadata, the three standard tables (二 proactive disclosure, "
            f"三 requests, 四 review and litigation) cell by cell, the narrative sections, every finding, and the "
            f"inputs that could not be parsed. Each table is a CSV resource validated against its Table Schema and "
            f"a Parquet twin; the code lists give every code's Chinese and English title."
        ),
        "version": version,
        "created": format_created(created),
        "keywords": list(KEYWORDS),
        "licenses": [dict(x) for x in LICENSES],
        "sources": [dict(x) for x in SOURCES],
        "contributors": [dict(x) for x in CONTRIBUTORS],
        "resources": resources,
        "govreports": {
            "reportYear": year,
            "fingerprint": content_fingerprint,
            "previousVersion": previous_version,
            "bump": bump,
            **(extra or {}),
        },
    }
