"""Parser throughput on one core per input format (text, HTML, DOCX, PDF): reports/s, MB/s and peak RSS.

    python benchmarks/parse_throughput.py [--corpus DIR] [--repeat N]

Text and HTML are the corpus files as saved (the HTML pages whole, site chrome and all).  DOCX and PDF are the
corpus reports with gold truths, drawn as the national template draws them by the test helper
(``tests/render_formats.py``).  Per format it prints the floor (merely decoding the bytes; for DOCX unzipping
every part; for PDF pdfplumber's plain text extraction of every page), the full parse, and the split of the
parse between the format's reader and the core parser; for HTML also the time pandas.read_html needs just to
pull the raw tables out of the same pages.  Times are CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import sys
import time
import warnings
import zipfile
from pathlib import Path

from govreports.decode import decode
from govreports.parser import parse_bytes, parse_path, parse_text
from govreports.parser.tables import clear_row_caches
from govreports.readers import read_bytes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test helper draws the DOCX and PDF reports
from tests.gold import CORPUS, gold_files, load_gold
from tests.render_formats import document, narrative_from, render_docx, render_pdf, truth_from_gold

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
SLOW_FORMATS = {"pdf": 10}  # repeat these formats N times less often


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(corpus: Path) -> dict[str, list[bytes]]:
    groups: dict[str, list[bytes]] = {"text": [], "html": [], "docx": [], "pdf": []}
    for path in sorted(corpus.rglob("*")):
        if path.suffix == ".txt":
            groups["text"].append(path.read_bytes())
        elif path.suffix == ".html":
            groups["html"].append(path.read_bytes())
    for blocks in _rendered_reports():
        groups["docx"].append(render_docx(blocks))
        groups["pdf"].append(render_pdf(blocks))
    return groups


def _rendered_reports() -> list[list]:
    """The text-copy reports of the fixture corpus that have complete gold truths, as document blocks."""
    out = []
    for gold_path in gold_files():
        gold = load_gold(gold_path)
        if gold["source"].startswith("html/") or gold["metadata"]["template"] not in ("2019", "2021"):
            continue
        try:
            template, truth = truth_from_gold(gold)
        except ValueError:  # undecidable cells: nothing to draw
            continue
        meta = gold["metadata"]
        narrative = narrative_from(parse_path(CORPUS / gold["source"]))
        out.append(document(template, truth, agency=meta["agency"], year=meta["report_year"], narrative=narrative))
    return out


def _unzip(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            archive.read(info)


def _pdf_text(data: bytes) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()


FLOORS = {"text": decode, "html": decode, "docx": _unzip, "pdf": _pdf_text}


def _timed(function, items: list[bytes], repeat: int) -> float:
    """CPU seconds of this process (one core), so that other load on the machine does not count.

    The parser caches the reading of identical printed rows (rows of zeros recur across thousands of real
    reports); the cache is cleared before every pass so that repeating a small corpus does not flatter it."""
    elapsed = 0.0
    for _ in range(repeat):
        clear_row_caches()
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
    parser.add_argument("--formats", default="text,html,docx,pdf", help="comma-separated subset to measure")
    args = parser.parse_args(argv)
    wanted = set(args.formats.split(","))
    groups = {fmt: items for fmt, items in _load(args.corpus).items() if fmt in wanted}
    for items in groups.values():  # one-time start-up (spec load, regex compilation) is not throughput
        for data in items[:1]:
            parse_bytes(data)
    print(f"corpus: {args.corpus}  repeat: {args.repeat} (pdf: {max(1, args.repeat // SLOW_FORMATS['pdf'])})  "
          f"python {sys.version.split()[0]}, one process, CPU time")
    print(f"{'format':6} {'files':>5} {'MB':>7} {'floor':>9} {'parse':>9} {'reports/s':>10} {'MB/s':>7} "
          f"{'parse/floor':>11} {'reader ms':>10} {'core ms':>8}")
    for fmt, items in groups.items():
        if not items:
            continue
        repeat = max(1, args.repeat // SLOW_FORMATS.get(fmt, 1))
        megabytes = sum(map(len, items)) * repeat / 1e6
        floor = _timed(FLOORS[fmt], items, repeat)
        parse = _timed(parse_bytes, items, repeat)
        documents = [read_bytes(data) for data in items]
        reader = _timed(read_bytes, items, repeat)
        core = _timed(lambda d: parse_text(d.text, fmt=d.fmt, encoding=d.encoding, rendered=True), documents, repeat)
        count = len(items) * repeat
        print(f"{fmt:6} {len(items):5d} {megabytes:7.2f} {floor:8.3f}s {parse:8.3f}s {count / parse:10.0f} "
              f"{megabytes / parse:7.2f} {parse / floor:10.1f}x {1000 * reader / count:10.2f} {1000 * core / count:8.2f}")
        if fmt == "html":
            read_html = _timed(_read_html, items, max(1, repeat // 4)) * (repeat / max(1, repeat // 4))
            print(f"{'':6} pandas.read_html only (tables, no parsing): {read_html:.3f}s for the same pages "
                  f"-> {count / read_html:.0f} pages/s; govreports parse is {read_html / parse:.1f}x faster")
    print("floor: text/html decode the bytes; docx unzips every part; pdf is pdfplumber's extract_text of every page")
    print(f"peak RSS: {_peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
