"""The PDF reader: tables broken across pages with their header rows repeated, wrapped lines joined again, page
numbers and running headers and footers dropped, scans detected early, pages parsed one at a time, and streams
that would inflate beyond the budget (decompression bombs) refused in small memory."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pdfplumber
import pytest

from govreports.parser import parse_bytes, parse_text
from govreports.readers import Unreadable, read_bytes
from govreports.readers.pdf import PdfLimits, pdf_cell_text, read_pdf
from tests.bad_corpus import BAD, one_page_pdf, slow_pdf
from tests.gold import GOLD_DIR, load_gold
from tests.render_formats import document, render_image_pdf, render_pdf, render_text, truth_from_gold
from tests.test_readers_roundtrip import assert_same_record

NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
LONG = ("2020年以来，我局认真学习贯彻《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，遵循公正、公平、"
        "合法、便民的原则，进一步深化对政府信息公开工作年度报告重要作用的认识，切实提高工作主动性、自觉性，进一步加强管理、"
        "完善制度，切实提高政府信息公开工作质量，推动政府信息公开工作有序开展。")


@pytest.fixture(scope="module")
def case() -> tuple[list, dict]:
    template, truth = truth_from_gold(load_gold(GOLD_DIR / "dev__putian_yjglj_2021.json"))
    blocks = document(template, truth, agency="莆田市应急管理局", year=2021, narrative={1: LONG})
    return blocks, parse_text(render_text(blocks))


def _fragments(pdf: bytes) -> list[tuple[int, list[list[str | None]]]]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [(page.page_number, table.extract()) for page in document.pages for table in page.find_tables()]


def test_table_broken_across_pages_with_repeated_header(case: tuple[list, dict]) -> None:
    blocks, text_record = case
    pdf = render_pdf(blocks, break_table=1)
    # The PDF really breaks table 三 and repeats its header rows on the next page.
    heads = [(page, rows[0]) for page, rows in _fragments(pdf) if NOTE in pdf_cell_text(rows[0][0])]
    assert len(heads) == 2 and heads[0][0] + 1 == heads[1][0]
    text = read_bytes(pdf).text
    assert text.count(NOTE) == 1 and text.count("商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 |") == 1
    assert "- 2 -" not in text and "- 3 -" not in text
    assert_same_record(parse_bytes(pdf, "report.pdf"), text_record, "pdf")


def test_table_without_header_rows_runs_on(case: tuple[list, dict]) -> None:
    blocks, text_record = case
    pdf = render_pdf(blocks, break_table=0, break_at=0.8)
    pages = {page for page, rows in _fragments(pdf) if any("第二十条" in (c or "") for r in rows for c in r)}
    assert len(pages) == 2  # table 二 is on two pages
    assert_same_record(parse_bytes(pdf, "report.pdf"), text_record, "pdf")


def test_wrapped_lines_are_joined_without_spaces(case: tuple[list, dict]) -> None:
    blocks, _ = case
    text = read_bytes(render_pdf(blocks)).text
    assert LONG in text.splitlines()
    assert "一、总体情况" in text.splitlines() and "二、主动公开政府信息情况" in text.splitlines()


@pytest.fixture
def parsed_pages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int]]]:
    """Every page pdfplumber parses, in order: (its number, the numbers of the pages still holding their parsed
    layout at that moment)."""
    from pdfplumber.page import Page

    parsed: list[tuple[int, list[int]]] = []
    layout = Page.layout

    def spied(page: Page) -> object:
        if not hasattr(page, "_layout"):
            parsed.append((page.page_number, [p.page_number for p in page.pdf.pages if hasattr(p, "_layout")]))
        return layout.fget(page)

    monkeypatch.setattr(Page, "layout", property(spied))
    return parsed


def test_pages_are_parsed_once_and_released_before_the_next(case: tuple[list, dict],
                                                             parsed_pages: list[tuple[int, list[int]]]) -> None:
    blocks, _ = case
    pdf = render_pdf(blocks, break_table=1)
    with pdfplumber.open(io.BytesIO(pdf)) as document_:
        count = len(document_.pages)
    assert count >= 3 and parsed_pages == []
    read_bytes(pdf)
    assert parsed_pages == [(number, []) for number in range(1, count + 1)]


def test_mostly_scanned_pdf_needs_ocr(parsed_pages: list[tuple[int, list[int]]]) -> None:
    from fpdf import FPDF

    from tests.render_formats import FONT

    scan = render_image_pdf(["二、主动公开政府信息情况"])
    with pdfplumber.open(io.BytesIO(scan)) as document:
        image = document.pages[0].images[0]
        assert image["width"] > 0
    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_font("wqy", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "莆田市统计局2020年政府信息公开工作年度报告（扫描件）")
    for _ in range(3):
        pdf.add_page()
        pdf.image(io.BytesIO(_page_png()), x=0, y=0, w=210, h=297)
    parsed_pages.clear()
    record = parse_bytes(bytes(pdf.output()), "mixed.pdf")
    assert (record["status"], record["reason"]) == ("quarantined", "needs_ocr")
    assert "at least 2 of 4 pages (decided at page 3)" in record["message"]
    assert parsed_pages == [(1, []), (2, []), (3, [])]  # page 4 is never parsed: pages 2 and 3 decided it


def _page_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (400, 560), 200).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------------------ running headers and footers

BROWSER_DATE = "2022/1/20 10:21"
BROWSER_URL = "http://yjj.putian.gov.cn/zwgk/ndbg/202201/t20220120_1.htm"


def _print_running_lines(monkeypatch: pytest.MonkeyPatch, header: str, footer: str) -> None:
    """Every FPDF page (render_pdf's too) gets ``header`` above a rule at the top and ``footer`` above
    render_pdf's "- N -" at the bottom, as Word or a browser prints them; ``{page}``: the page number."""
    import fpdf

    def running_lines(pdf: fpdf.FPDF) -> None:
        pdf.set_auto_page_break(False)  # drawing in the bottom margin must not start another page
        pdf.set_y(6)
        pdf.cell(0, 5, header.format(page=pdf.page_no()), align="R")
        pdf.line(pdf.l_margin, 12, pdf.w - pdf.r_margin, 12)
        pdf.set_y(pdf.h - 18)
        pdf.cell(0, 5, footer.format(page=pdf.page_no()), align="C")
        pdf.set_auto_page_break(True, margin=22)  # the text column ends above the footer
        pdf.set_y(16)

    monkeypatch.setattr(fpdf.FPDF, "header", running_lines)


def _nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("style", ["word", "browser"])
@pytest.mark.parametrize(("break_table", "break_at", "marker"), [
    pytest.param(0, 0.8, "第二十条", id="active_disclosure"), pytest.param(1, 0.55, NOTE, id="applications")])
def test_running_header_and_footer_are_dropped_around_a_continued_table(
        monkeypatch: pytest.MonkeyPatch, style: str, break_table: int, break_at: float, marker: str) -> None:
    template, truth = truth_from_gold(load_gold(GOLD_DIR / "dev__putian_yjglj_2021.json"))
    long_paragraph = LONG * 16  # runs on from page 1 to page 2
    blocks = document(template, truth, agency="莆田市应急管理局", year=2021, narrative={1: long_paragraph})
    title = str(blocks[0][1])
    header, footer = {"word": (title, "第 {page} 页 共 {{nb}} 页"),
                      "browser": (f"{BROWSER_DATE} {title}", f"{BROWSER_URL} {{page}}/{{{{nb}}}}")}[style]
    _print_running_lines(monkeypatch, header, footer)
    pdf = render_pdf(blocks, break_table=break_table, break_at=break_at)

    with pdfplumber.open(io.BytesIO(pdf)) as document_:
        printed = [[line["text"] for line in page.extract_text_lines()] for page in document_.pages]
    pages = len(printed)
    assert pages >= 3
    footers = [footer.format(page=n).replace("{nb}", str(pages)) for n in range(1, pages + 1)]
    # on every page as printed, the footer above render_pdf's "- N -"
    assert [(lines[0], lines[-2]) for lines in printed] == [(header, f) for f in footers]
    assert printed[1][1] in long_paragraph  # page 2 goes on with the paragraph page 1 ended in
    broken = sorted({page for page, rows in _fragments(pdf) if any(marker in pdf_cell_text(c) for r in rows for c in r)})
    assert len(broken) == 2 and broken[0] + 1 == broken[1]  # the table runs on over a page break

    text = read_bytes(pdf).text
    assert _nonblank(text) == _nonblank(render_text(blocks))  # no running line, the table and paragraph whole
    assert long_paragraph in text.splitlines()
    assert_same_record(parse_bytes(pdf, "report.pdf"), parse_text(render_text(blocks)), "pdf")


def test_report_text_repeated_on_every_page_is_not_a_running_line() -> None:
    """slow_pdf prints the same line 60 times on every page: the first and last lines of each page are at the
    same heights on every page, but the line recurs in the body too, so none of them is a header or footer."""
    text = read_bytes(slow_pdf(pages=3)).text
    assert text.count("政府信息公开") == 3 * 60 * 4


# ------------------------------------------------------------------------------ decompression bombs

_MEASURE = """
import json, resource, sys, tracemalloc
import pdfplumber
from govreports.parser import parse_bytes
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
record = parse_bytes(data, "bomb.pdf")
traced = tracemalloc.get_traced_memory()[1]
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps({"status": record["status"], "reason": record["reason"], "traced": traced, "rss_grown": grown}))
"""


def _content_inflates_to(pdf: bytes, stop: int) -> int:
    """How many bytes the twice-deflated content stream of a tests.bad_corpus one-page PDF inflates to: counted,
    never held, and only until past ``stop``."""
    once = zlib.decompress(pdf[pdf.index(b"stream\n") + 7:pdf.rindex(b"\nendstream")])
    inflater, size, pending = zlib.decompressobj(), 0, once
    while pending and size <= stop:
        size += len(inflater.decompress(pending, 1 << 20))
        pending = inflater.unconsumed_tail
    return size


def test_deflate_bomb_is_refused_in_small_memory() -> None:
    fixture = BAD / "deflate_bomb.pdf"
    assert fixture.stat().st_size < 4096 and _content_inflates_to(fixture.read_bytes(), 64 << 20) > 64 << 20
    result = subprocess.run([sys.executable, "-c", _MEASURE, str(fixture)], capture_output=True, text=True,
                            timeout=120, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert (measured["status"], measured["reason"]) == ("quarantined", "decompression_bomb")
    assert measured["traced"] < 16 << 20, f"{measured['traced'] / 2**20:.1f} MiB traced"
    assert measured["rss_grown"] < 64 << 20, f"{measured['rss_grown'] / 2**20:.1f} MiB more resident memory"


def _lzw_runs() -> bytes:
    """LZW codes packed as LZWDecode reads them (most significant bit first, 9 to 12 bits wide as the table
    grows): "a", then codes 258 … 4095, each naming the string before it plus one "a" — 7.4 MB from 5.6 KB."""
    value = bits = 0
    for code in [256, 97, *range(258, 4096)]:
        width = 9 if code < 511 else 10 if code < 1023 else 11 if code < 2047 else 12
        value, bits = value << width | code, bits + width
    pad = -bits % 8
    return (value << pad).to_bytes((bits + pad) // 8, "big")


def test_lzw_bomb_is_refused() -> None:
    from pdfminer.lzw import lzwdecode  # pdfminer's own decoder, not the reader's metered one

    runs = _lzw_runs()
    assert len(runs) < 6000 and lzwdecode(runs) == b"a" * sum(range(1, 3840))
    record = parse_bytes(one_page_pdf(runs, "/LZWDecode"), "lzw.pdf")
    assert (record["status"], record["reason"]) == ("quarantined", "decompression_bomb")
    assert "-fold" in record["message"]


def _pdf_with_bomb_in_metadata() -> bytes:
    """A one-page PDF with text, whose title sits in a compressed object stream that inflates ~1000-fold (17 KB to
    16 MiB): pdfplumber resolves the title on opening and goes on past any error there (a cross-reference stream
    says where the compressed object is)."""
    text = b"BT /F1 24 Tf 72 720 Td (Government information disclosure annual report) Tj ET"
    objects = zlib.compress(b"5 0 (Report) " + b" " * (16 << 20), 9)
    bodies = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 8 0 R "
           b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        4: b"<< /Type /ObjStm /N 1 /First 4 /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
           % (len(objects), objects),
        7: b"<< /Title 5 0 R >>",
        8: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    }
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for number, body in bodies.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[6] = len(out)
    rows = [(0, 0, 65535)] + [(2, 4, 0) if n == 5 else (1, offsets[n], 0) for n in range(1, 9)]  # 5: in stream 4
    xref = b"".join(struct.pack(">BIH", *row) for row in rows)
    out += (b"6 0 obj\n<< /Type /XRef /Size 9 /W [1 4 2] /Root 1 0 R /Info 7 0 R /Length %d >>\nstream\n%s\n"
            b"endstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % (len(xref), xref, offsets[6]))
    return bytes(out)


def test_a_bomb_that_pdfminer_goes_past_is_still_refused() -> None:
    pdf = _pdf_with_bomb_in_metadata()
    with pdfplumber.open(io.BytesIO(pdf)) as document_:  # outside a reading: a sound file
        assert document_.metadata["Title"] == "Report"
        assert document_.pages[0].extract_text() == "Government information disclosure annual report"
    with pytest.raises(Unreadable) as caught:
        read_pdf(pdf)
    assert caught.value.reason == "decompression_bomb" and "-fold" in caught.value.detail


def test_inflation_budget_is_per_document(case: tuple[list, dict]) -> None:
    blocks, _ = case
    pdf = render_pdf(blocks)
    assert "一、总体情况" in read_pdf(pdf).text
    with pytest.raises(Unreadable) as caught:
        read_pdf(pdf, PdfLimits(max_inflated_bytes=64_000))
    assert caught.value.reason == "decompression_bomb"
    assert caught.value.detail.startswith("its streams inflate to more than 64000 bytes")


def test_inflation_budgets_of_concurrent_readings_are_apart(case: tuple[list, dict]) -> None:
    """Readings in four threads at once, two of them bombs: each document is charged to its own budget; and
    outside a reading pdfminer inflates as it always did."""
    blocks, _ = case
    good, bomb = render_pdf(blocks), (BAD / "deflate_bomb.pdf").read_bytes()
    expected = read_pdf(good).text
    start = threading.Barrier(4)

    def read(data: bytes) -> str:
        start.wait(timeout=30)
        try:
            return read_pdf(data).text
        except Unreadable as error:
            return error.reason

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(read, [good, bomb, good, bomb])) == [expected, "decompression_bomb"] * 2
    from pdfminer import pdftypes

    zeros = b"\0" * (8 << 20)  # inflates 1000-fold: a bomb inside a reading
    assert pdftypes.zlib.decompress(zlib.compress(zeros)) == zeros
