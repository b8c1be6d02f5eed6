"""Parse many files in worker processes, with bounded memory and a time limit per file.

Belongs here: fanning files out to worker processes and streaming their records back in input order, with at
most ``window`` files in flight (memory stays bounded however many files a year has), and the resource limits
that keep one hostile file from stopping a run:

* **time per file** (``GOVREPORTS_MAX_SECONDS_PER_FILE``, default 120 s; ``0`` turns it off): a worker still
  busy with a file after that long is killed and replaced, and the file is quarantined ``timeout``;
* **bytes per file** (``GOVREPORTS_MAX_BYTES``, default the parser's 50 MiB): checked before reading, and the
  read itself never takes more than the limit + 1 byte (a file that grows while it is read is ``too_large``);
* **memory per worker** (``GOVREPORTS_MAX_MEMORY_MB``, default 4096; ``0`` turns it off): the worker's address
  space is capped, so a file that needs more is quarantined (``out_of_memory``, or ``worker_crashed`` when the
  worker dies of it) instead of exhausting the machine;
* a worker that dies for any reason quarantines its file as ``worker_crashed`` and is replaced (a worker that
  had parsed other files first gets the file retried once on a fresh worker); a worker whose parse failed
  inside the parser, or that grew past half its memory limit, is retired after that file;
* workers die with the process that started them (Linux ``PR_SET_PDEATHSIG``), so a killed run leaves none behind.

Files are opened without following a symlink in the last component (``O_NOFOLLOW``), only when they resolve
inside the landing folder (``ParseJob.root``), and only when they are regular files (a FIFO or device never
blocks a run).  The worker applies the manifest beside each file to its record (reading the manifest under the
same rules), so the pipeline's records are those of ``govreports parse``.  Workers are plain
``python -m govreports.batch --worker`` subprocesses (callers need no ``__main__`` guard); jobs and records
cross the process boundary as JSON frames over pipes, never as pickles.  Only when the time limit is off are
small batches parsed in the calling process.
Not here: what a record means (``govreports.frames``) or the ledger (``govreports.ingest``).
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, BinaryIO

from govreports.parser import DEFAULT_MAX_BYTES, parse_bytes, quarantined
from govreports.readers.manifest import annotate
from govreports.safe_read import read_limited

WORKERS_ENV = "GOVREPORTS_WORKERS"
MAX_BYTES_ENV = "GOVREPORTS_MAX_BYTES"
MAX_SECONDS_ENV = "GOVREPORTS_MAX_SECONDS_PER_FILE"
MAX_MEMORY_ENV = "GOVREPORTS_MAX_MEMORY_MB"
DEFAULT_MAX_SECONDS = 120.0
DEFAULT_MAX_MEMORY_MB = 4096
TIMEOUT = "timeout"
WORKER_CRASHED = "worker_crashed"
OUT_OF_MEMORY = "out_of_memory"


@dataclass(frozen=True)
class ParseJob:
    abs_path: Path
    path: str  # as recorded in the tables: relative to the landing folder
    root: Path | None = None  # the landing folder: the file must resolve inside it


# --- limits from the environment -----------------------------------------------------------------------------

def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"${name} must be a number, not {text!r}") from None
    if value < 0:
        raise ValueError(f"${name} must not be negative, not {text!r}")
    return value


def default_workers() -> int:
    return max(1, int(_env_number(WORKERS_ENV, min(4, os.cpu_count() or 1))))


def default_max_bytes() -> int:
    """``$GOVREPORTS_MAX_BYTES``, else the parser's default (50 MiB)."""
    return int(_env_number(MAX_BYTES_ENV, DEFAULT_MAX_BYTES)) or DEFAULT_MAX_BYTES


def default_max_seconds() -> float | None:
    """``$GOVREPORTS_MAX_SECONDS_PER_FILE`` (default 120); ``0`` means no limit (``None``)."""
    return _env_number(MAX_SECONDS_ENV, DEFAULT_MAX_SECONDS) or None


def default_max_memory_mb() -> int | None:
    """``$GOVREPORTS_MAX_MEMORY_MB`` per worker process (default 4096); ``0`` means no limit (``None``)."""
    return int(_env_number(MAX_MEMORY_ENV, DEFAULT_MAX_MEMORY_MB)) or None


# --- one file ------------------------------------------------------------------------------------------------

def parse_file(abs_path: Path, path: str, max_bytes: int = DEFAULT_MAX_BYTES,
               root: Path | None = None) -> dict[str, Any]:
    """Parse one file, recording ``path`` (not the absolute path) as its source, and apply the manifest beside
    it as ``parse_path`` does (``govreports.readers.manifest.annotate``; a manifest resolving outside ``root`` is
    not read); never raises."""
    return annotate(_parse_limited(abs_path, path, max_bytes, root), abs_path, root)


def _out_of_memory(message: str) -> str:
    return f"needs more memory than ${MAX_MEMORY_ENV} allows per worker: {message}"


def _parse_limited(abs_path: Path, path: str, max_bytes: int, root: Path | None) -> dict[str, Any]:
    try:
        data = read_limited(abs_path, max_bytes, root)
    except OSError as error:
        return quarantined(path, b"", "unreadable", f"{type(error).__name__}: {error}")
    except MemoryError as error:  # the file alone does not fit under the worker's memory limit
        return quarantined(path, b"", OUT_OF_MEMORY, _out_of_memory(f"MemoryError while reading the file: {error}"))
    if isinstance(data, tuple):
        return quarantined(path, b"", *data)
    record = parse_bytes(data, path, max_bytes=max_bytes)
    message = record.get("message") or ""
    if record.get("reason") == "parser_error" and message.startswith("MemoryError"):
        record = {**record, "reason": OUT_OF_MEMORY, "message": _out_of_memory(message)}
    return record


# --- worker processes ----------------------------------------------------------------------------------------
# A worker is ``python -m govreports.batch --worker <parent pid> <memory MB>``: a plain subprocess (no
# multiprocessing, so no re-import of the caller's ``__main__`` and no pickles), speaking length-prefixed JSON
# frames on its stdin/stdout.

_FRAME = struct.Struct("!Q")


def _write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_FRAME.pack(len(payload)) + payload)
    stream.flush()


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_frame(stream: BinaryIO) -> bytes:
    return _read_exact(stream, _FRAME.unpack(_read_exact(stream, _FRAME.size))[0])


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this process when the process that started it dies (a run killed with -9 included)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the call took effect
        os._exit(1)


def _retire(record: dict[str, Any], memory_mb: int | None) -> bool:
    """Whether a worker should stop after this file: the parser failed inside (state may be left broken, e.g.
    after a MemoryError), or the process grew past half its memory limit."""
    if record.get("reason") in ("parser_error", OUT_OF_MEMORY):
        return True
    if memory_mb:
        try:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > memory_mb * 1024 * 1024 // 2
        except ImportError:
            return False
    return False


def worker_main(parent: int, memory_mb: int | None) -> None:
    """Worker loop: a job as a JSON frame on stdin; ``{"record": ..., "retire": bool}`` as a JSON frame on
    stdout; exit at end of input, or after a reply that says ``retire``."""
    _die_with_parent(parent)
    if memory_mb:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    requests = open(os.dup(0), "rb", buffering=0)  # noqa: SIM115 - the worker's lifetime
    replies = open(os.dup(1), "wb", buffering=0)  # noqa: SIM115
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    while True:
        try:
            abs_path, path, max_bytes, root = json.loads(_read_frame(requests))
        except EOFError:
            return
        record = parse_file(Path(abs_path), path, max_bytes, Path(root) if root else None)
        retire = _retire(record, memory_mb)
        try:
            _write_frame(replies, json.dumps({"record": record, "retire": retire}, ensure_ascii=False).encode())
        except OSError:  # the parent is gone
            return
        if retire:
            return


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    index: int | None = None  # position of the job it is parsing
    started: float = 0.0
    done: int = 0  # files it has parsed

    @property
    def replies(self) -> BinaryIO:
        assert self.process.stdout is not None
        return self.process.stdout

    def send(self, payload: bytes) -> None:
        assert self.process.stdin is not None
        _write_frame(self.process.stdin, payload)


class _Pool:
    """Worker processes the parent can kill one at a time (a ``ProcessPoolExecutor`` cannot)."""

    def __init__(self, size: int, memory_mb: int | None) -> None:
        self.memory_mb = memory_mb
        self.workers = [self._start() for _ in range(size)]

    def _start(self) -> _Worker:
        argv = [sys.executable, "-m", "govreports.batch", "--worker", str(os.getpid()), str(self.memory_mb or 0)]
        # One parse per worker at a time: numpy's BLAS threads would only reserve memory under the limit.
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                   close_fds=True, env=env)
        return _Worker(process)

    @staticmethod
    def _stop(worker: _Worker, *, kill: bool) -> int | None:
        if kill:
            worker.process.kill()
        for stream in (worker.process.stdin, worker.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            return worker.process.wait(5)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            return worker.process.wait(5)

    def replace(self, worker: _Worker, *, kill: bool = True) -> int | None:
        """Stop ``worker`` (killing it unless it is exiting by itself) and start another; its exit status."""
        status = self._stop(worker, kill=kill)
        self.workers[self.workers.index(worker)] = self._start()
        return status

    def close(self) -> None:
        for worker in self.workers:  # idle workers exit at end of input; a busy one's file is abandoned
            self._stop(worker, kill=worker.index is not None)


def _crashed(job: ParseJob, detail: str) -> dict[str, Any]:
    return quarantined(job.path, b"", WORKER_CRASHED, detail)


def _run_pool(jobs: list[ParseJob], workers: int, max_bytes: int, window: int, max_seconds: float | None,
              memory_mb: int | None) -> Iterator[tuple[ParseJob, dict[str, Any]]]:
    """The worker pool's loop.  A worker that dies while parsing a file after it had parsed others is replaced
    and the file is given once more to a fresh worker (the death may be a leftover of an earlier file); a
    fresh worker dying on it quarantines it ``worker_crashed``."""
    pool = _Pool(min(workers, len(jobs)), memory_mb)
    results: dict[int, dict[str, Any]] = {}
    retry: deque[int] = deque()
    retried: set[int] = set()
    next_job = next_out = 0
    try:
        while next_out < len(jobs):
            for worker in list(pool.workers):  # hand out work, at most ``window`` files ahead of the output
                if worker.index is not None:
                    continue
                if retry:
                    index = retry.popleft()
                elif next_job < len(jobs) and next_job - next_out < window:
                    index, next_job = next_job, next_job + 1
                else:
                    continue
                job = jobs[index]
                task = [str(job.abs_path), job.path, max_bytes, str(job.root) if job.root else None]
                try:
                    worker.send(json.dumps(task).encode("utf-8"))
                except OSError as error:
                    results[index] = _crashed(job, f"the worker could not take the file: {error}")
                    pool.replace(worker)
                else:
                    worker.index, worker.started = index, time.monotonic()
            while next_out in results:  # stream out in input order
                yield jobs[next_out], results.pop(next_out)
                next_out += 1
            busy = [w for w in pool.workers if w.index is not None]
            if not busy:
                continue
            timeout = None
            if max_seconds is not None:
                timeout = max(0.0, min(w.started for w in busy) + max_seconds - time.monotonic())
            ready = wait([w.replies for w in busy], timeout)
            now = time.monotonic()
            for worker in busy:
                index = worker.index
                assert index is not None
                if worker.replies in ready:
                    try:
                        reply = json.loads(_read_frame(worker.replies))
                    except (EOFError, OSError, ValueError):
                        worker.index = None
                        status = pool.replace(worker)
                        if worker.done and index not in retried:
                            retried.add(index)
                            retry.append(index)
                        else:
                            results[index] = _crashed(jobs[index], f"the worker process died (exit status {status}) "
                                                                   "while parsing this file")
                        continue
                    results[index] = reply["record"]
                    worker.index = None
                    worker.done += 1
                    if reply.get("retire"):
                        pool.replace(worker, kill=False)
                elif max_seconds is not None and now - worker.started >= max_seconds:
                    results[index] = quarantined(jobs[index].path, b"", TIMEOUT,
                                                 f"parsing took longer than {max_seconds:g} s "
                                                 f"(${MAX_SECONDS_ENV}); the worker was stopped")
                    worker.index = None
                    pool.replace(worker)
    finally:
        pool.close()


def parse_files(jobs: Sequence[ParseJob] | Iterable[ParseJob], *, workers: int | None = None,
                max_bytes: int | None = None, window: int | None = None, min_parallel: int | None = None,
                max_seconds: float | bool | None = True,
                max_memory_mb: int | bool | None = True) -> Iterator[tuple[ParseJob, dict[str, Any]]]:
    """Yield (job, record) in input order, every file parsed in one of ``workers`` processes with at most
    ``window`` (default 2×workers) files in flight.

    ``max_seconds``/``max_memory_mb``: ``True`` (default) takes the environment's limit, ``None`` or ``0`` none.
    With no time limit, fewer than ``min_parallel`` files (default ``$GOVREPORTS_PARALLEL_MIN_FILES`` or 8) or a
    single worker are parsed in this process."""
    jobs = list(jobs)
    workers = default_workers() if workers is None else max(1, workers)
    max_bytes = default_max_bytes() if max_bytes is None else max_bytes
    seconds = default_max_seconds() if max_seconds is True else (float(max_seconds) or None if max_seconds else None)
    memory = default_max_memory_mb() if max_memory_mb is True else (int(max_memory_mb) or None if max_memory_mb
                                                                    else None)
    min_parallel = int(os.environ.get("GOVREPORTS_PARALLEL_MIN_FILES", 8)) if min_parallel is None else min_parallel
    if not jobs:
        return
    if seconds is None and (workers == 1 or len(jobs) < min_parallel):
        for job in jobs:
            yield job, parse_file(job.abs_path, job.path, max_bytes, job.root)
        return
    yield from _run_pool(jobs, workers, max_bytes, window or 2 * workers, seconds, memory)


if __name__ == "__main__":  # a worker process (see ``_Pool``)
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker_main(int(sys.argv[2]), int(sys.argv[3]) or None)
    else:
        sys.exit("usage: python -m govreports.batch --worker <parent pid> <memory MB>")
