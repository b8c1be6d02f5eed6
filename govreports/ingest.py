"""Landing folder → ledger: which raw files exist, which report year each belongs to, and what became of each.

Belongs here: walking the landing folder safely (symlinks out of it are never read, FIFOs and devices never
opened, names that are not UTF-8 recorded escaped and quarantined ``bad_file_name``, hidden files — names
starting with ``.``, such as downloads in progress — recorded as ``hidden_file`` without being read, hidden
folders not entered), hashing, format sniffing,
assigning a report year to each file (its year folder, else the year printed in the report), and the ledger —
DuckDB table ``ledger.files``, one row per (path, sha256) ever seen, kept forever:

* a re-run skips files whose (path, sha256) is already recorded (only ``last_seen`` moves);
* a changed file at the same path gets a new row with the next ``version``; the old row stays, ``current = false``;
* a file whose bytes are already current at another path is recorded as ``quarantined`` / ``duplicate`` with
  ``duplicate_of`` naming the first path, and is not parsed again;
* a file that disappears keeps its rows, ``current = false`` and ``removed_at`` set.

The status of a current row is ``pending`` until parsed, then ``parsed`` | ``partial`` | ``quarantined`` (with a
``reason``), so that for every year: current files = parsed + partial + quarantined (+ pending before a parse).

Manifests (``manifest.csv`` / ``manifest.jsonl`` beside the files a collector saved, ``govreports.readers.manifest``)
are not inputs: they are recorded with status ``manifest`` (reason ``manifest_invalid`` and the error in ``note``
when they cannot be applied), never parsed, never counted as files, and the parsing workers apply them to the
files beside them.  A manifest is part of the fingerprint of every year that has a file beside it, so a changed
manifest makes those years run again; its year (if it gives one) decides the year of a file outside year folders.
Not here: parsing tables (``govreports.parser``, ``govreports.batch``) or writing core tables (``govreports.build``).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb
import pandas as pd

from govreports import warehouse
from govreports.batch import ParseJob, default_max_bytes, parse_files
from govreports.parser import DEFAULT_MAX_BYTES, parse_path
from govreports.readers.manifest import ManifestError, entry_for, is_manifest, manifest_problem
from govreports.safe_read import NOT_A_REGULAR_FILE

YEAR_DIR = re.compile(r"^(19|20)\d{2}$")
UNREAD = ""  # sha256 of a file that was deliberately not read (e.g. a symlink out of the landing folder)
DUPLICATE = "duplicate"
DUPLICATE_REPORT = "duplicate_report"
OUTSIDE_LANDING = "outside_landing"
BAD_FILE_NAME = "bad_file_name"
HIDDEN_FILE = "hidden_file"
UNREADABLE = "unreadable"
MANIFEST = "manifest"  # ledger status of a manifest: it describes files, it is not one
MANIFEST_INVALID = "manifest_invalid"  # ledger reason of a manifest that is not applied (same code as the finding)
# ledger reasons of files that were never parsed (their bytes were not read, or are another file's)
NEVER_PARSED = (DUPLICATE, OUTSIDE_LANDING, NOT_A_REGULAR_FILE, BAD_FILE_NAME, HIDDEN_FILE, UNREADABLE)

LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS ledger;
CREATE TABLE IF NOT EXISTS ledger.files (
    path VARCHAR NOT NULL,          -- relative to the landing folder, POSIX separators
    sha256 VARCHAR NOT NULL,        -- of the raw bytes ('' when the file was not read)
    version INTEGER NOT NULL,       -- 1, 2, ... per path: a changed file is a new version
    size BIGINT,
    format VARCHAR,                 -- sniffed: text | html | docx | pdf | zip | binary
    mtime_ns BIGINT,
    folder_year INTEGER,            -- from landing/<year>/..., null outside a year folder
    report_year INTEGER,            -- the partition the file belongs to
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    removed_at TIMESTAMP,
    current BOOLEAN NOT NULL,       -- these bytes are at this path now
    status VARCHAR NOT NULL,        -- pending | parsed | partial | quarantined | manifest
    reason VARCHAR,                 -- why partial, quarantined or not applied (duplicate, not_a_report, ...)
    report_id VARCHAR,
    duplicate_of VARCHAR,           -- path of the first copy, for duplicates
    parser_version VARCHAR,
    note VARCHAR,
    PRIMARY KEY (path, sha256)
);
CREATE TABLE IF NOT EXISTS ledger.release_reports (
    report_year INTEGER NOT NULL,
    version VARCHAR NOT NULL,
    report_id VARCHAR NOT NULL,
    published_at TIMESTAMP NOT NULL,
    PRIMARY KEY (report_year, version, report_id)
);
"""


@dataclass(frozen=True)
class LandingFile:
    """One file in the landing folder as scanned (not yet parsed)."""

    path: str  # relative to the landing folder, POSIX
    abs_path: Path
    size: int | None
    mtime_ns: int | None
    sha256: str
    format: str | None
    folder_year: int | None
    problem: str | None = None  # reason the file was not read
    detail: str | None = None  # what went wrong, for the ledger's note (e.g. the OS error of an unreadable file)

    @property
    def is_manifest(self) -> bool:
        """A collector's manifest: it describes the files of its folder and is not parsed as a report."""
        return is_manifest(self.path)

    @property
    def folder(self) -> str:
        """The folder it is in, relative to the landing folder (``.`` at the top)."""
        return str(PurePosixPath(self.path).parent)


@dataclass
class IngestSummary:
    year: int
    digest: str
    counts: Counter[str] = field(default_factory=Counter)  # new, changed, unchanged, removed, duplicate, problem
    manifest: pd.DataFrame = field(default_factory=pd.DataFrame)  # current files of the year


# --- scanning -------------------------------------------------------------------------------------------------

def folder_year(path: str) -> int | None:
    parts = PurePosixPath(path).parts
    if len(parts) > 1 and YEAR_DIR.match(parts[0]):
        return int(parts[0])
    return None


def sniff_format(head: bytes, name: str = "") -> str:
    lower = name.lower()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if lower.endswith(".docx") else "zip"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"7z\xbc\xaf")):
        return "binary"
    sample = head[:4096].lower()
    if lower.endswith((".html", ".htm")) or any(tag in sample for tag in (b"<html", b"<!doctype", b"<table", b"<body")):
        return "html"
    return "text"


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or folder: it is never read (a FIFO would block the scan)."""


def hash_file(path: Path, chunk: int = 1 << 20) -> tuple[str, str]:
    """sha256 of the bytes (streamed: memory stays bounded whatever the size) and the sniffed format.

    The last path component is not followed if it is a symlink (``O_NOFOLLOW``: a file swapped for a symlink
    after the scan looked at it is not read) and only a regular file is read (``NotRegularFile`` otherwise)."""
    digest = hashlib.sha256()
    head = b""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with open(fd, "rb", buffering=0) as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, f"not a regular file ({stat.filemode(mode)})")
        while block := handle.read(chunk):
            if not head:
                head = block[:8192]
            digest.update(block)
    return digest.hexdigest(), sniff_format(head, path.name)


def safe_name(rel: str) -> tuple[str, bool]:
    """A path as it can be stored (valid UTF-8), and whether it was already that.  Names that are not UTF-8
    (e.g. GBK bytes from a crawler) come from ``os`` with surrogate escapes; they are stored with the bad
    bytes written as ``\\xNN``."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace"), False
    return rel, True


def _within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _walk(landing: Path, years: Collection[int] | None) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, path) of every entry that is a file or a symlink; year folders not in ``years`` are
    skipped, everything outside year folders is always visited, hidden folders (``.git``, a crawler's ``.tmp``)
    are not entered.  Hidden files are yielded: the scan records them without reading them."""
    if not landing.is_dir():
        return
    for top in sorted(landing.iterdir()):
        if top.is_dir() and not top.is_symlink():
            if top.name.startswith("."):
                continue
            if YEAR_DIR.match(top.name) and years is not None and int(top.name) not in years:
                continue
            for directory, dirnames, filenames in os.walk(top, followlinks=False):
                base = Path(directory)
                links = [d for d in dirnames if (base / d).is_symlink()]
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in links)
                for name in sorted(filenames + links):
                    entry = base / name
                    yield entry.relative_to(landing).as_posix(), entry
        else:
            yield top.relative_to(landing).as_posix(), top


def scan_landing(landing: Path, *, years: Collection[int] | None = None,
                 known: Mapping[str, tuple[int, int, str, str]] | None = None) -> list[LandingFile]:
    """Every file under ``landing`` (year folders limited to ``years``), hashed.

    ``known`` maps a path to (mtime_ns, size, sha256, format) from an earlier scan: a file whose mtime and size
    are unchanged is not hashed again.
    """
    landing = Path(landing)
    root = landing.resolve()
    known = known or {}
    files: list[LandingFile] = []
    for raw_rel, entry in _walk(landing, years):
        rel, good_name = safe_name(raw_rel)
        year = folder_year(rel)
        if entry.name.startswith("."):  # a download in progress, editor or OS litter: accounted for, not read
            files.append(LandingFile(rel, entry, None, None, UNREAD, None, year, HIDDEN_FILE))
            continue
        if entry.is_symlink() and not _within(entry, root):
            files.append(LandingFile(rel, entry, None, None, UNREAD, None, year, OUTSIDE_LANDING))
            continue
        if entry.is_dir():
            continue  # a symlink to a folder inside the landing folder: its files are seen where they live
        try:
            target = entry.resolve(strict=True) if entry.is_symlink() else entry
            info = target.stat()
            if not stat.S_ISREG(info.st_mode):
                files.append(LandingFile(rel, entry, None, None, UNREAD, None, year, NOT_A_REGULAR_FILE))
                continue
            cached = known.get(rel)
            if cached and cached[0] == info.st_mtime_ns and cached[1] == info.st_size and cached[2]:
                sha, fmt = cached[2], cached[3]
            else:
                sha, fmt = hash_file(target)
        except NotRegularFile:
            files.append(LandingFile(rel, entry, None, None, UNREAD, None, year, NOT_A_REGULAR_FILE))
            continue
        except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
            detail = getattr(error, "strerror", None) or str(error)
            files.append(LandingFile(rel, entry, None, None, UNREAD, None, year, UNREADABLE, detail))
            continue
        if not good_name:
            files.append(LandingFile(rel, entry, info.st_size, info.st_mtime_ns, sha, fmt, year, BAD_FILE_NAME,
                                     "the name is not UTF-8; rename the file to read it"))
            continue
        detail = manifest_problem(entry, root) if is_manifest(rel) else None  # cached per folder and change
        files.append(LandingFile(rel, entry, info.st_size, info.st_mtime_ns, sha, fmt, year, None, detail))
    return files


def _year_of(record: dict) -> tuple[int | None, str | None]:
    if record["status"] == "quarantined":
        return None, record.get("reason") or "quarantined"
    year = (record.get("metadata") or {}).get("report_year")
    return (int(year), None) if year else (None, "no_report_year")


def peek_report_year(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[int | None, str | None]:
    """The year printed in a report outside a year folder, or (None, reason).  Parses in this process, with no
    time limit: for files from the landing folder use ``peek_report_years``."""
    return _year_of(parse_path(path, max_bytes=max_bytes))


def peek_report_years(paths: Sequence[Path], *, root: Path | None = None, max_bytes: int | None = None,
                      max_seconds: float | bool | None = True,
                      workers: int | None = None) -> dict[Path, tuple[int | None, str | None]]:
    """``peek_report_year`` for many files, parsed in worker processes under the batch limits (time, bytes,
    memory per file: a hostile file outside a year folder cannot stall a scan); a manifest beside a file is
    applied as ``parse_path`` applies it (by ``parse_file``, in the worker)."""
    jobs = [ParseJob(Path(p), Path(p).name, root) for p in paths]
    return {job.abs_path: _year_of(record)
            for job, record in parse_files(jobs, workers=workers, max_bytes=max_bytes, max_seconds=max_seconds)}


YearReader = Callable[[Path], tuple[int | None, str | None]]


def _year_to_find(f: LandingFile) -> bool:
    """A readable report outside year folders: its year is in its manifest or in its text."""
    return f.folder_year is None and not f.problem and not f.is_manifest


def _manifest_year(f: LandingFile, root: Path | None) -> int | None:
    """The year the manifest beside ``f`` gives it: the manifest takes precedence over the text, and reading it
    needs no parse and no cache (a cached year could predate an edit of the manifest)."""
    try:
        entry = entry_for(f.abs_path, root)
    except ManifestError:  # not applied: the text's year, as the parse will find it
        return None
    return entry.year if entry is not None else None


def assign_years(files: Iterable[LandingFile], *, known_years: Mapping[str, int | None] | None = None,
                 read_year: YearReader | None = None, max_bytes: int | None = None,
                 max_seconds: float | bool | None = True,
                 root: Path | None = None) -> list[tuple[LandingFile, int | None]]:
    """Pair each file with its report year: its year folder, else the year the manifest beside it gives, else a
    year known for its sha256, else the report's (read by ``read_year``, by default ``peek_report_years`` with
    ``max_bytes`` and the batch limits).  A manifest outside year folders has no year: it is not a report."""
    known_years = known_years or {}
    files = list(files)
    manifest_years = {f.abs_path: _manifest_year(f, root) for f in files if _year_to_find(f)}
    from_manifest = {path: year for path, year in manifest_years.items() if year is not None}
    unknown = [f.abs_path for f in files
               if _year_to_find(f) and f.abs_path not in from_manifest and f.sha256 not in known_years]
    if read_year is not None:
        years = {path: read_year(path) for path in unknown}
    else:
        years = peek_report_years(unknown, root=root, max_bytes=max_bytes, max_seconds=max_seconds) if unknown else {}
    out = []
    for f in files:
        if f.folder_year is not None:
            year = f.folder_year
        elif f.problem or f.is_manifest:
            year = None
        elif f.abs_path in from_manifest:
            year = from_manifest[f.abs_path]
        elif f.sha256 in known_years:
            year = known_years[f.sha256]
        else:
            year = years[f.abs_path][0]
        out.append((f, year))
    return out


def year_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """Fingerprint of a year's landing state: sorted (path, sha256) of its inputs (``year_inputs``)."""
    digest = hashlib.sha256()
    for path, sha in sorted(pairs):
        digest.update(f"{path}\0{sha}\n".encode())
    return digest.hexdigest()


def year_inputs(assigned: Iterable[tuple[LandingFile, int | None]]) -> dict[int, set[tuple[str, str]]]:
    """(path, sha256) of what each year's records are made from: its files and the manifests beside them (a
    manifest outside year folders has no year, yet an edit of it changes the records of the files it describes).
    Hidden files are left out: one appearing (a download in progress) does not make a year run again; the next
    run records it."""
    groups: dict[int, set[tuple[str, str]]] = {}
    folders: dict[int, set[str]] = {}
    manifests: dict[str, list[LandingFile]] = {}
    for f, year in assigned:
        if f.problem == HIDDEN_FILE:
            continue
        if f.is_manifest:
            manifests.setdefault(f.folder, []).append(f)
        if year is not None:
            groups.setdefault(year, set()).add((f.path, f.sha256))
            folders.setdefault(year, set()).add(f.folder)
    for year, names in folders.items():
        groups[year].update((m.path, m.sha256) for name in names for m in manifests.get(name, ()))
    return groups


def digests_by_year(assigned: Iterable[tuple[LandingFile, int | None]]) -> dict[int, str]:
    """Each year's ``year_digest`` of its ``year_inputs``."""
    return {year: year_digest(pairs) for year, pairs in year_inputs(assigned).items()}


def landing_years(landing: Path, read_year: YearReader | None = None, *, max_bytes: int | None = None) -> list[int]:
    """Years that have at least one file in the landing folder."""
    assigned = assign_years(scan_landing(landing), read_year=read_year, max_bytes=max_bytes,
                            root=Path(landing).resolve())
    return sorted({year for _, year in assigned if year is not None})


# --- the ledger -----------------------------------------------------------------------------------------------

def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(LEDGER_DDL)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def reusable_years(assigned: Iterable[tuple[str, str, int | None]]) -> dict[str, int | None]:
    """From an earlier assignment — (path, sha256, report year) of every file, manifests included — the years
    ``assign_years`` may reuse by sha256 instead of parsing again: those of readable files outside year folders.
    Files beside a manifest get none: theirs may have come from a manifest entry that has since lost its year or
    stopped being applied, so it is read again (the manifest's year, else the text's).  The ledger (``scan_cache``)
    and the landing sensor's cursor both go through here, so that both file a file under the same year."""
    assigned = list(assigned)
    described = {PurePosixPath(path).parent for path, _sha, _year in assigned if is_manifest(path)}
    return {sha: year for path, sha, year in assigned
            if sha and folder_year(path) is None and not is_manifest(path)
            and PurePosixPath(path).parent not in described}


def scan_cache(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple[int, int, str, str]], dict[str, int | None]]:
    """From the ledger: (mtime, size, sha256, format) of each current path, and the year known for each sha256
    (``reusable_years``)."""
    ensure_ledger(con)
    rows = con.execute("SELECT path, mtime_ns, size, sha256, format, report_year FROM ledger.files "
                       "WHERE current").fetchall()
    known = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows if r[1] is not None and r[3]}
    return known, reusable_years((r[0], r[3], r[5]) for r in rows)


def apply_scan(con: duckdb.DuckDBPyConnection, year: int, assigned: Iterable[tuple[LandingFile, int | None]],
               now: datetime | None = None) -> IngestSummary:
    """Record one year's scan in the ledger (call inside a transaction).  Files without a year are recorded too
    (as quarantined) by whichever year runs, so that nothing goes unaccounted."""
    ensure_ledger(con)
    now = now or _now()
    counts: Counter[str] = Counter()
    scope = [(f, y) for f, y in assigned if y == year or y is None]
    scanned = {f.path: f for f, _ in scope}
    year_of = {f.path: y for f, y in scope}
    # 1. rows of this scope that are no longer there, or whose bytes changed
    rows = con.execute("SELECT path, sha256 FROM ledger.files WHERE current AND (report_year = ? OR "
                       "(report_year IS NULL AND folder_year IS NULL))", [year]).fetchall()
    for path, sha in rows:
        if path not in scanned:
            con.execute("UPDATE ledger.files SET current = false, removed_at = ? WHERE path = ? AND sha256 = ?",
                        [now, path, sha])
            counts["removed"] += 1
        elif scanned[path].sha256 != sha:
            con.execute("UPDATE ledger.files SET current = false WHERE path = ? AND sha256 = ?", [path, sha])
            counts["changed"] += 1
    # 2. where each sha256 currently lives as a non-duplicate
    canonical: dict[str, str] = {}
    for path, sha in con.execute("SELECT path, sha256 FROM ledger.files WHERE current AND sha256 <> '' AND "
                                 "coalesce(reason, '') <> ? AND status <> ? ORDER BY first_seen, path",
                                 [DUPLICATE, MANIFEST]).fetchall():
        canonical.setdefault(sha, path)
    # 3. upsert every scanned file, in path order
    for path in sorted(scanned):
        f = scanned[path]
        existing = con.execute("SELECT current, reason, duplicate_of, report_year FROM ledger.files "
                               "WHERE path = ? AND sha256 = ?", [path, f.sha256]).fetchone()
        first = canonical.get(f.sha256) if f.sha256 and not f.is_manifest else None
        is_duplicate = first is not None and first != path
        if f.is_manifest:  # same bytes in two folders are two manifests, not a duplicate
            status, reason, duplicate_of = MANIFEST, f.problem or (MANIFEST_INVALID if f.detail else None), None
        elif f.problem:
            status, reason, duplicate_of = "quarantined", f.problem, None
        elif is_duplicate:
            status, reason, duplicate_of = "quarantined", DUPLICATE, first
        else:
            status, reason, duplicate_of = "pending", None, None
            if f.sha256:
                canonical.setdefault(f.sha256, path)
        if year_of[path] is None and not f.problem and not f.is_manifest:
            status, reason = "quarantined", "no_report_year"
        note = f.detail if f.problem or f.is_manifest else None
        if existing and existing[0] and existing[3] == year_of[path]:
            counts["unchanged"] += 1
            if f.is_manifest:  # a sibling manifest can break or mend it; older ledgers parsed it as a report
                con.execute("UPDATE ledger.files SET status = ?, reason = ?, note = ?, duplicate_of = NULL, "
                            "report_id = NULL, parser_version = NULL WHERE path = ? AND sha256 = ?",
                            [status, reason, note, path, f.sha256])
            elif f.problem and existing[1] != f.problem:  # still unread, for another reason (e.g. FIFO → symlink)
                con.execute("UPDATE ledger.files SET status = 'quarantined', reason = ?, note = ? "
                            "WHERE path = ? AND sha256 = ?", [f.problem, note, path, f.sha256])
            if existing[1] == DUPLICATE and not is_duplicate:  # its first copy is gone: this one takes its place
                con.execute("UPDATE ledger.files SET status = 'pending', reason = NULL, duplicate_of = NULL "
                            "WHERE path = ? AND sha256 = ?", [path, f.sha256])
            con.execute("UPDATE ledger.files SET last_seen = ?, mtime_ns = ? WHERE path = ? AND sha256 = ?",
                        [now, f.mtime_ns, path, f.sha256])
            continue
        if existing:  # back to bytes seen before at this path, or the same bytes moved year (by their manifest)
            con.execute("UPDATE ledger.files SET current = true, removed_at = NULL, last_seen = ?, mtime_ns = ?, "
                        "report_year = ?, status = ?, reason = ?, duplicate_of = ?, report_id = NULL, note = ? "
                        "WHERE path = ? AND sha256 = ?",
                        [now, f.mtime_ns, year_of[path], status, reason, duplicate_of, note, path, f.sha256])
        else:
            version = con.execute("SELECT coalesce(max(version), 0) + 1 FROM ledger.files WHERE path = ?",
                                  [path]).fetchone()[0]
            con.execute(
                "INSERT INTO ledger.files (path, sha256, version, size, format, mtime_ns, folder_year, report_year, "
                "first_seen, last_seen, current, status, reason, duplicate_of, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?, ?, ?, ?)",
                [path, f.sha256, version, f.size, f.format, f.mtime_ns, f.folder_year, year_of[path], now, now,
                 status, reason, duplicate_of, note])
            counts["new"] += 1
        if is_duplicate:
            counts["duplicate"] += 1
        if f.problem:
            counts["problem"] += 1
    manifest = con.execute(
        "SELECT path, sha256, version, size, format, folder_year, report_year, status, reason, duplicate_of, "
        "first_seen FROM ledger.files WHERE current AND report_year = ? ORDER BY path", [year]).df()
    digest = year_digest(year_inputs(scope).get(year, set()))
    return IngestSummary(year, digest, counts, manifest)


def parse_candidates(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """Current files of a year, each with what the ledger knows (duplicates and unreadable files included;
    manifests left out: the workers apply them to the files beside them)."""
    ensure_ledger(con)
    return con.execute("SELECT path, sha256, size, status, reason, duplicate_of, note FROM ledger.files "
                       "WHERE current AND report_year = ? AND status <> ? ORDER BY path", [year, MANIFEST]).df()


@dataclass(frozen=True)
class Outcome:
    """What parsing made of one ledger row."""

    path: str
    sha256: str
    status: str
    reason: str | None = None
    report_id: str | None = None
    parser_version: str | None = None
    duplicate_of: str | None = None
    note: str | None = None


def record_outcomes(con: duckdb.DuckDBPyConnection, outcomes: Iterable[Outcome]) -> int:
    """Write parse outcomes into the ledger (call inside the transaction that writes the core tables)."""
    frame = pd.DataFrame([o.__dict__ for o in outcomes],
                         columns=["path", "sha256", "status", "reason", "report_id", "parser_version",
                                  "duplicate_of", "note"]).astype("string")
    if frame.empty:
        return 0
    con.register("_outcomes", frame)
    try:
        con.execute("UPDATE ledger.files AS f SET status = o.status, reason = o.reason, report_id = o.report_id, "
                    "parser_version = o.parser_version, duplicate_of = coalesce(o.duplicate_of, f.duplicate_of), "
                    "note = o.note FROM _outcomes AS o WHERE f.path = o.path AND f.sha256 = o.sha256")
    finally:
        con.unregister("_outcomes")
    return len(frame)


def record_release(con: duckdb.DuckDBPyConnection, year: int, version: str, report_ids: Iterable[str]) -> None:
    ensure_ledger(con)
    now = _now()
    for report_id in sorted(set(report_ids)):
        con.execute("INSERT INTO ledger.release_reports VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [year, version, report_id, now])


@dataclass
class LedgerCounts:
    year: int | None
    files_seen: int  # every (path, sha256) ever recorded for the year, history included
    current: int
    parsed: int
    partial: int
    quarantined: int
    pending: int
    superseded: int  # older versions kept in history (changed or removed)
    quarantined_by_reason: dict[str, int]
    duplicates: int
    releases: list[str] = field(default_factory=list)  # release versions that include reports of the year
    manifests: int = 0  # current manifests: beside the files, not counted among them
    manifests_invalid: int = 0  # of which not applied (ledger reason manifest_invalid, or never read)

    @property
    def balanced(self) -> bool:
        """files in = parsed + partial + quarantined (+ pending, which is zero after a parse)."""
        return self.current == self.parsed + self.partial + self.quarantined + self.pending


def ledger_counts(con: duckdb.DuckDBPyConnection, year: int | None) -> LedgerCounts:
    """Counts for one year (``None``: files that have no year).  Manifests are counted apart from the files."""
    ensure_ledger(con)
    where, params = ("report_year = ?", [year]) if year is not None else ("report_year IS NULL", [])
    everything = con.execute(f"SELECT current, status, reason FROM ledger.files WHERE {where}", params).df()
    is_manifest_row = everything["status"] == MANIFEST
    manifests = everything[is_manifest_row & everything["current"].astype(bool)]
    frame = everything[~is_manifest_row]
    current = frame[frame["current"].astype(bool)]
    status = Counter(current["status"].astype(str))
    quarantined = current[current["status"] == "quarantined"]
    reasons = Counter(quarantined["reason"].fillna("unknown").astype(str))
    return LedgerCounts(
        year=year, files_seen=len(frame), current=len(current), parsed=status["parsed"], partial=status["partial"],
        quarantined=status["quarantined"], pending=status["pending"], superseded=len(frame) - len(current),
        quarantined_by_reason=dict(sorted(reasons.items())),
        duplicates=reasons[DUPLICATE] + reasons[DUPLICATE_REPORT],
        releases=_release_versions(con, year) if year is not None else [],
        manifests=len(manifests), manifests_invalid=int(manifests["reason"].notna().sum()),
    )


def _release_versions(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    versions = [r[0] for r in con.execute("SELECT DISTINCT version FROM ledger.release_reports WHERE report_year = ?",
                                          [year]).fetchall()]
    return sorted(versions, key=lambda v: [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.-]", v)])


def ledger_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    ensure_ledger(con)
    return [r[0] for r in con.execute("SELECT DISTINCT report_year FROM ledger.files WHERE report_year IS NOT NULL "
                                      "ORDER BY 1").fetchall()]


def ingest_year(db_path: Path, landing: Path, year: int, *, max_bytes: int | None = None,
                max_seconds: float | bool | None = True, now: datetime | None = None) -> IngestSummary:
    """Scan the landing folder for one year and record it in the ledger (hashing outside the warehouse lock)."""
    max_bytes = default_max_bytes() if max_bytes is None else max_bytes
    with warehouse.session(db_path) as con:
        known, known_years = scan_cache(con)
    files = scan_landing(landing, years={year}, known=known)
    assigned = assign_years(files, known_years=known_years, max_bytes=max_bytes, max_seconds=max_seconds,
                            root=Path(landing).resolve())
    with warehouse.session(db_path) as con, warehouse.transaction(con):
        return apply_scan(con, year, assigned, now)
