"""Parse many files in parallel with bounded memory.

Belongs here: fanning files out to worker processes and streaming their records back in input order, with at
most ``window`` files in flight (memory stays bounded however many files a year has).  Records cross the process
boundary as JSON text, never as pickles of parsed input.  Small batches are parsed in-process (starting workers
costs more than it saves).  Not here: what a record means (``govreports.frames``) or the ledger (``ingest``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govreports.parser import DEFAULT_MAX_BYTES, parse_bytes, quarantined


@dataclass(frozen=True)
class ParseJob:
    abs_path: Path
    path: str  # as recorded in the tables: relative to the landing folder


def default_workers() -> int:
    return max(1, int(os.environ.get("GOVREPORTS_WORKERS", min(4, os.cpu_count() or 1))))


def parse_file(abs_path: Path, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Parse one file, recording ``path`` (not the absolute path) as its source; never raises."""
    try:
        size = abs_path.stat().st_size
        if size > max_bytes:
            return quarantined(path, b"", "too_large", f"{size} bytes exceeds the limit of {max_bytes}")
        data = abs_path.read_bytes()
    except OSError as error:
        return quarantined(path, b"", "unreadable", f"{type(error).__name__}: {error}")
    return parse_bytes(data, path, max_bytes=max_bytes)


def _parse_to_json(abs_path: str, path: str, max_bytes: int) -> str:
    return json.dumps(parse_file(Path(abs_path), path, max_bytes), ensure_ascii=False)


def _result(job: ParseJob, future: Future[str]) -> dict[str, Any]:
    try:
        return json.loads(future.result())
    except Exception as error:  # noqa: BLE001 - a worker that died (e.g. killed for memory) quarantines its file
        return quarantined(job.path, b"", "worker_crashed", f"{type(error).__name__}: {error}")


def parse_files(jobs: Sequence[ParseJob] | Iterable[ParseJob], *, workers: int | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES, window: int | None = None,
                min_parallel: int | None = None) -> Iterator[tuple[ParseJob, dict[str, Any]]]:
    """Yield (job, record) in input order.  ``workers`` processes, at most ``window`` (default 2×workers) files
    in flight; fewer than ``min_parallel`` files (default ``$GOVREPORTS_PARALLEL_MIN_FILES`` or 8) are parsed here."""
    jobs = list(jobs)
    workers = default_workers() if workers is None else max(1, workers)
    min_parallel = int(os.environ.get("GOVREPORTS_PARALLEL_MIN_FILES", 8)) if min_parallel is None else min_parallel
    if workers == 1 or len(jobs) < min_parallel:
        for job in jobs:
            yield job, parse_file(job.abs_path, job.path, max_bytes)
        return
    window = window or 2 * workers
    # spawn: the calling process may run threads (Dagster does); forking it is not safe
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[tuple[ParseJob, Future[str]]] = deque()
        queue = iter(jobs)
        for job in queue:
            pending.append((job, pool.submit(_parse_to_json, str(job.abs_path), job.path, max_bytes)))
            if len(pending) >= window:
                done, future = pending.popleft()
                yield done, _result(done, future)
        while pending:
            done, future = pending.popleft()
            yield done, _result(done, future)
