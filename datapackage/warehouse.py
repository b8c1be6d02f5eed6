"""Loading a published release into the DuckDB warehouse: one schema per release, one table per resource.

What belongs here: turning a release folder (its ``datapackage.json``) into DuckDB DDL (column types, NOT NULL,
primary keys and comments from the Table Schemas), loading the rows (Parquet twins where present, CSV otherwise)
inside one transaction, and the ``main.govreports_releases`` catalogue.  What does not: building or changing a
release (``publish``) or any transformation of values: the warehouse holds exactly the published rows.

Schema names are ``release_<year>_v<major>_<minor>_<patch>`` (e.g. ``release_2020_v1_0_0``).  A release is
immutable, so loading the same release again is a no-op unless ``replace=True``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from datapackage.loader import verify_release

DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
                "date": "DATE"}
CATALOGUE = "main.govreports_releases"


class WarehouseError(RuntimeError):
    """A release could not be loaded; the warehouse is unchanged."""


def schema_name(year: int, version: str) -> str:
    return f"release_{year}_v{version.replace('.', '_')}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_table_sql(schema: str, name: str, table_schema: dict[str, Any]) -> str:
    columns = []
    for field in table_schema["fields"]:
        column = f"{_ident(field['name'])} {DUCKDB_TYPES[field['type']]}"
        if (field.get("constraints") or {}).get("required"):
            column += " NOT NULL"
        columns.append(column)
    if table_schema.get("primaryKey"):
        columns.append("PRIMARY KEY (" + ", ".join(_ident(c) for c in table_schema["primaryKey"]) + ")")
    return f"CREATE TABLE {_ident(schema)}.{_ident(name)} (\n  " + ",\n  ".join(columns) + "\n)"


def _source_sql(release_dir: Path, resource: dict[str, Any], twin: dict[str, Any] | None) -> str:
    fields = resource["schema"]["fields"]
    names = ", ".join(_ident(f["name"]) for f in fields)
    if twin is not None:
        return f"SELECT {names} FROM read_parquet({_literal(str(release_dir / twin['path']))})"
    types = ", ".join(f"{_literal(f['name'])}: {_literal(DUCKDB_TYPES[f['type']])}" for f in fields)
    return (f"SELECT {names} FROM read_csv({_literal(str(release_dir / resource['path']))}, header = true, "
            f"delim = ',', quote = '\"', escape = '\"', nullstr = '', columns = {{{types}}})")


def load_release(release_dir: Path, database: Path | str, *, replace: bool = False, verify: bool = True) -> str:
    """Load the release in ``release_dir`` into the DuckDB file ``database``; return the schema name.

    The files are checked against their hashes first (``verify``); a failure leaves the warehouse unchanged."""
    release_dir = Path(release_dir)
    if verify:
        problems = verify_release(release_dir)
        if problems:
            raise WarehouseError(f"{release_dir} does not match its datapackage.json: " + "; ".join(problems[:5]))
    descriptor = json.loads((release_dir / "datapackage.json").read_text(encoding="utf-8"))
    meta = descriptor.get("govreports") or {}
    year, version = int(meta["reportYear"]), descriptor["version"]
    schema = schema_name(year, version)
    tables = [r for r in descriptor["resources"] if r.get("type") == "table"]
    twins = {r["sameTableAs"]: r for r in descriptor["resources"] if r.get("sameTableAs")}
    con = duckdb.connect(str(database))
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {CATALOGUE} (schema_name VARCHAR PRIMARY KEY, report_year INTEGER, "
                    "version VARCHAR, fingerprint VARCHAR, created VARCHAR, loaded_from VARCHAR)")
        existing = con.execute(f"SELECT fingerprint FROM {CATALOGUE} WHERE schema_name = ?", [schema]).fetchone()
        if existing is not None and not replace:
            if existing[0] != meta.get("fingerprint"):
                raise WarehouseError(f"{schema} is already loaded with fingerprint {existing[0]}, not "
                                     f"{meta.get('fingerprint')}: releases are immutable")
            return schema
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
            con.execute(f"DELETE FROM {CATALOGUE} WHERE schema_name = ?", [schema])
            con.execute(f"CREATE SCHEMA {_ident(schema)}")
            for resource in tables:
                name = resource["name"]
                con.execute(create_table_sql(schema, name, resource["schema"]))
                con.execute(f"INSERT INTO {_ident(schema)}.{_ident(name)} "
                            + _source_sql(release_dir, resource, twins.get(name)))
                comment = resource.get("description") or resource.get("title") or ""
                con.execute(f"COMMENT ON TABLE {_ident(schema)}.{_ident(name)} IS {_literal(comment)}")
                for field in resource["schema"]["fields"]:
                    con.execute(f"COMMENT ON COLUMN {_ident(schema)}.{_ident(name)}.{_ident(field['name'])} IS "
                                f"{_literal(field.get('description', ''))}")
            con.execute(f"INSERT INTO {CATALOGUE} VALUES (?, ?, ?, ?, ?, ?)",
                        [schema, year, version, meta.get("fingerprint"), descriptor.get("created"), str(release_dir)])
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"loading {release_dir} into {database} failed: {exc}") from exc
        return schema
    finally:
        con.close()
