"""Parser throughput on one core: reports/s, MB/s and peak RSS, beside the read-and-decode floor.

    python benchmarks/parse_throughput.py [--corpus DIR] [--repeat N]

Prints, per input format, the time to merely read and decode the same bytes (the floor), the full parse,
and for HTML the time pandas.read_html needs just to pull the raw tables out of the same pages.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import sys
import time
import warnings
from pathlib import Path

from govreports.decode import decode
from govreports.parser import parse_bytes
from govreports.parser.tables import read_row

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(corpus: Path) -> dict[str, list[bytes]]:
    groups: dict[str, list[bytes]] = {"text": [], "html": []}
    for path in sorted(corpus.rglob("*")):
        if path.suffix == ".txt":
            groups["text"].append(path.read_bytes())
        elif path.suffix == ".html":
            groups["html"].append(path.read_bytes())
    return groups


def _timed(function, items: list[bytes], repeat: int) -> float:
    """CPU seconds of this process (one core), so that other load on the machine does not count.

    The parser caches the reading of identical printed rows (rows of zeros recur across thousands of real
    reports); the cache is cleared before every pass so that repeating a small corpus does not flatter it."""
    elapsed = 0.0
    for _ in range(repeat):
        read_row.cache_clear()
        start = time.process_time()
        for data in items:
            function(data)
        elapsed += time.process_time() - start
    return elapsed


def _read_html(data: bytes) -> None:
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(ValueError):
            pd.read_html(io.StringIO(decode(data).text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    groups = _load(args.corpus)
    for items in groups.values():  # one-time start-up (spec load, regex compilation) is not throughput
        for data in items[:1]:
            parse_bytes(data)
    print(f"corpus: {args.corpus}  repeat: {args.repeat}  python {sys.version.split()[0]}, one process")
    print(f"{'format':6} {'files':>5} {'MB':>7} {'decode floor':>14} {'parse':>12} {'reports/s':>10} {'MB/s':>7} {'parse/floor':>11}")
    for fmt, items in groups.items():
        if not items:
            continue
        megabytes = sum(map(len, items)) * args.repeat / 1e6
        floor = _timed(decode, items, args.repeat)
        parse = _timed(parse_bytes, items, args.repeat)
        count = len(items) * args.repeat
        print(f"{fmt:6} {len(items):5d} {megabytes:7.2f} {floor:13.3f}s {parse:11.3f}s {count / parse:10.0f} "
              f"{megabytes / parse:7.2f} {parse / floor:10.1f}x")
        if fmt == "html":
            read_html = _timed(_read_html, items, max(1, args.repeat // 4)) * (args.repeat / max(1, args.repeat // 4))
            print(f"{'':6} pandas.read_html only (tables, no parsing): {read_html:.3f}s for the same pages "
                  f"-> {count / read_html:.0f} pages/s; govreports parse is {read_html / parse:.1f}x faster")
    print(f"peak RSS: {_peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
