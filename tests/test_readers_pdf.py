"""The PDF reader: tables broken across pages with their header rows repeated, wrapped lines joined again, page
numbers dropped, scans detected."""

from __future__ import annotations

import io

import pdfplumber
import pytest

from govreports.parser import parse_bytes, parse_text
from govreports.readers import read_bytes
from govreports.readers.pdf import pdf_cell_text
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


def test_mostly_scanned_pdf_needs_ocr() -> None:
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
    record = parse_bytes(bytes(pdf.output()), "mixed.pdf")
    assert (record["status"], record["reason"]) == ("quarantined", "needs_ocr")
    assert "3 of 4 pages" in record["message"]


def _page_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (400, 560), 200).save(buffer, format="PNG")
    return buffer.getvalue()
