"""The consumer side of a release: find it, verify it, copy it, load it.

What belongs here: resolving ``releases/<year>/<version|latest>``, checking every file against the ``hash`` and
``bytes`` in ``datapackage.json``, copying a verified release elsewhere (atomically), loading its tables back as
typed DataFrames (the dtypes ``govreports.frames`` produces), and the one-line loading snippets.  What does not:
publishing (``publish``) or the warehouse (``warehouse``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from datapackage.publish import VERSION_RE, list_versions, read_latest, remove_tree, year_dir

PANDAS_DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
                 "date": "datetime64[us]"}
EXAMPLE_TABLE = "applications"


class ReleaseNotFound(LookupError):
    pass


class ReleaseCorrupted(RuntimeError):
    def __init__(self, release_dir: Path, problems: list[str]) -> None:
        super().__init__(f"{release_dir} does not match its datapackage.json: " + "; ".join(problems[:5]))
        self.problems = problems


def resolve_release(releases_dir: Path, year: int, version: str = "latest") -> Path:
    """The folder of ``year``'s release ``version`` (``latest``: the one ``latest.json`` names)."""
    if version == "latest":
        pointer = read_latest(releases_dir, year)
        if pointer is None:
            versions = list_versions(releases_dir, year)
            if not versions:
                raise ReleaseNotFound(f"no release of {year} under {releases_dir}")
            version = versions[-1]
        else:
            version = pointer["version"]
    if not VERSION_RE.match(version):
        raise ReleaseNotFound(f"not a version: {version!r}")
    folder = year_dir(releases_dir, year) / version
    if not (folder / "datapackage.json").is_file():
        raise ReleaseNotFound(f"no release {year} {version} under {releases_dir}")
    return folder


def read_descriptor(release_dir: Path) -> dict[str, Any]:
    return json.loads((Path(release_dir) / "datapackage.json").read_text(encoding="utf-8"))


def _safe_relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def verify_release(release_dir: Path) -> list[str]:
    """Every resource file against its ``hash`` and ``bytes``; the problems found (empty: intact)."""
    release_dir = Path(release_dir)
    problems: list[str] = []
    for resource in read_descriptor(release_dir)["resources"]:
        relative = resource.get("path")
        if not isinstance(relative, str) or not _safe_relative(relative):
            problems.append(f"{resource.get('name')}: unsafe or missing path {relative!r}")
            continue
        path = release_dir / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
            continue
        sha, size = _sha256_file(path)
        if resource.get("bytes") != size:
            problems.append(f"{relative}: {size} bytes, datapackage.json says {resource.get('bytes')}")
        if resource.get("hash") != f"sha256:{sha}":
            problems.append(f"{relative}: sha256 {sha}, datapackage.json says {resource.get('hash')}")
    return problems


def _copy_files(source: Path, target: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(source):
        relative = Path(dirpath).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for filename in filenames:
            shutil.copyfile(Path(dirpath) / filename, target / relative / filename)


def fetch_release(releases_dir: Path, year: int, dest: Path, version: str = "latest") -> Path:
    """Copy a verified release to ``dest/<year>/<version>/`` (atomically) and return that folder.

    The source is verified before copying and the copy after; an existing, intact copy is reused."""
    source = resolve_release(releases_dir, year, version)
    problems = verify_release(source)
    if problems:
        raise ReleaseCorrupted(source, problems)
    target = Path(dest) / str(year) / source.name
    if target.exists():
        problems = verify_release(target)
        if problems:
            raise ReleaseCorrupted(target, problems)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".tmp-fetch-", dir=target.parent))
    try:
        _copy_files(source, temp)
        problems = verify_release(temp)
        if problems:
            raise ReleaseCorrupted(temp, problems)
        os.rename(temp, target)
    finally:
        if temp.exists():
            remove_tree(temp)
    return target


def _typed(frame: pd.DataFrame, fields: list[dict[str, Any]]) -> pd.DataFrame:
    for field in fields:
        name, kind = field["name"], field["type"]
        if kind == "date":
            frame[name] = pd.to_datetime(frame[name], errors="raise").astype("datetime64[us]")
        else:
            frame[name] = frame[name].astype(PANDAS_DTYPES[kind])
    return frame[[f["name"] for f in fields]]


def load_table(release_dir: Path, name: str) -> pd.DataFrame:
    """One table of a release as a typed DataFrame (Parquet twin where present, else the CSV)."""
    release_dir = Path(release_dir)
    resources = read_descriptor(release_dir)["resources"]
    resource = next((r for r in resources if r["name"] == name and r.get("type") == "table"), None)
    if resource is None:
        raise KeyError(f"no table resource {name!r} in {release_dir}")
    fields = resource["schema"]["fields"]
    twin = next((r for r in resources if r.get("sameTableAs") == name), None)
    if twin is not None:
        frame = pq.read_table(release_dir / twin["path"]).to_pandas(types_mapper={
            pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype(),
            pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(),
        }.get)
    else:
        frame = pd.read_csv(release_dir / resource["path"], dtype=str, keep_default_na=False,
                            na_values=[""], encoding="utf-8")
        for field in fields:
            if field["type"] == "boolean":
                frame[field["name"]] = frame[field["name"]].map({"true": True, "false": False})
    return _typed(frame, fields)


def load_frames(release_dir: Path) -> dict[str, pd.DataFrame]:
    """Every table of a release (report tables and code lists) as typed DataFrames."""
    resources = read_descriptor(release_dir)["resources"]
    return {r["name"]: load_table(release_dir, r["name"]) for r in resources if r.get("type") == "table"}


def snippets(release_dir: Path, table: str = EXAMPLE_TABLE) -> dict[str, str]:
    """One line each to load ``table`` of the release with Frictionless, pandas and DuckDB."""
    root = Path(release_dir).resolve()
    package = root / "datapackage.json"
    parquet = root / "data" / f"{table}.parquet"
    return {
        "frictionless": f"frictionless validate {package}",
        "frictionless (python)": f'frictionless.Package("{package}").get_resource("{table}").to_pandas()',
        "pandas": f'pandas.read_parquet("{parquet}", dtype_backend="numpy_nullable")',
        "duckdb": f"duckdb.sql(\"SELECT * FROM '{parquet}'\").df()",
    }


__all__ = ["ReleaseCorrupted", "ReleaseNotFound", "fetch_release", "load_frames", "load_table",
           "resolve_release", "snippets", "verify_release"]
