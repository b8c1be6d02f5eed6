"""Format detection by content, and the quarantine reasons of files no reader can take (never a traceback)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from govreports.parser import parse_bytes
from govreports.readers import Unreadable, detect_format, read_bytes
from govreports.readers.docx import ZipLimits, check_archive
from govreports.spec import load_spec
from tests.gold import CORPUS, GOLD_DIR, load_gold
from tests.render_formats import (
    document,
    render_docx,
    render_html,
    render_image_pdf,
    render_pdf,
    truth_from_gold,
    zip_members,
)

SEED = (CORPUS / "seeds" / "000_5c245e0f5975cf67.txt").read_bytes()


@pytest.fixture(scope="module")
def blocks() -> list:
    template, truth = truth_from_gold(load_gold(GOLD_DIR / "dev__putian_tjj_2020.json"))
    return document(template, truth, agency="莆田市统计局", year=2020)


@pytest.fixture(scope="module")
def docx_bytes(blocks: list) -> bytes:
    return render_docx(blocks)


@pytest.fixture(scope="module")
def pdf_bytes(blocks: list) -> bytes:
    return render_pdf(blocks)


def _replace_member(docx: bytes, name: str, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = data
    return zip_members(members)


def test_formats_are_told_by_content(blocks: list, docx_bytes: bytes, pdf_bytes: bytes) -> None:
    assert detect_format(docx_bytes) == "docx"
    assert detect_format(pdf_bytes) == "pdf"
    assert detect_format(b"\r\n" + pdf_bytes) == "pdf"
    assert detect_format(render_html(blocks).encode("utf-8")) == "html"
    assert detect_format(SEED) == "text"
    assert detect_format(zip_members({"a.txt": b"x"})) == "binary"
    assert detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500) == "binary"
    assert detect_format(bytes(range(256)) * 4) == "binary"


def test_file_names_do_not_decide(tmp_path: Path, blocks: list, docx_bytes: bytes, pdf_bytes: bytes) -> None:
    """A Word file saved as .html, a PDF as .txt, a page as .doc: each is read by its own reader (CLI)."""
    (tmp_path / "report.html").write_bytes(docx_bytes)
    (tmp_path / "report.txt").write_bytes(pdf_bytes)
    (tmp_path / "report.doc").write_bytes(render_html(blocks).encode("utf-8"))
    (tmp_path / "report.pdf").write_bytes(SEED)
    result = subprocess.run([sys.executable, "-m", "govreports", "parse", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    records = {Path(r["source"]["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert {name: r["source"]["format"] for name, r in records.items()} == {
        "report.html": "docx", "report.txt": "pdf", "report.doc": "html", "report.pdf": "text"}
    assert all(r["status"] == "parsed" for r in records.values())
    def values(record: dict) -> list[tuple]:
        return [(c["row"], c["applicant"], c["value"], c["raw"]) for c in record["applications"]]

    assert values(records["report.html"]) == values(records["report.doc"]) == values(records["report.txt"])


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda d: d[: len(d) // 2], "corrupt_docx"),
    (lambda d: d[:40], "binary"),  # one local header, no Word part named yet: nothing says it is Word
    (lambda d: d.replace(b"word/document.xml", b"word/documenX.xml"), "corrupt_docx"),
    (lambda d: _replace_member(d, "word/document.xml", b"<w:document>not closed"), "corrupt_docx"),
])
def test_damaged_word_files_are_quarantined(docx_bytes: bytes, damage, reason: str) -> None:
    record = parse_bytes(damage(docx_bytes), "bad.docx")
    assert (record["status"], record["reason"]) == ("quarantined", reason)
    assert record["source"]["format"] == ("docx" if reason == "corrupt_docx" else None)
    assert record["message"]


def test_word_part_with_a_dtd_is_refused_unexpanded(docx_bytes: bytes) -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><w:document xmlns:w="http://schemas.openxmlformats.org/'
              b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>')
    record = parse_bytes(_replace_member(docx_bytes, "word/document.xml", laughs), "laughs.docx")
    assert (record["status"], record["reason"]) == ("quarantined", "corrupt_docx")
    assert "DTD" in record["message"]


def test_zip_bomb_is_refused_before_inflating(docx_bytes: bytes) -> None:
    bomb = _replace_member(docx_bytes, "word/media/huge.bin", b"\x00" * (24 * 1024 * 1024))
    assert len(bomb) < 200_000  # 24 MiB of zeros deflate about a thousandfold
    record = parse_bytes(bomb, "bomb.docx")
    assert (record["status"], record["reason"]) == ("quarantined", "zip_bomb")
    with pytest.raises(Unreadable) as caught:
        check_archive(docx_bytes, ZipLimits(max_total_uncompressed=10_000))
    assert caught.value.reason == "zip_bomb"
    with pytest.raises(Unreadable) as caught:
        check_archive(zip_members({f"{i}.xml": b"<a/>" for i in range(20)}), ZipLimits(max_members=10))
    assert caught.value.reason == "zip_bomb"


def test_legacy_word_and_other_archives_get_reasons() -> None:
    ole = parse_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "old.doc")
    assert (ole["status"], ole["reason"]) == ("quarantined", "unsupported_format")
    other = parse_bytes(zip_members({"data.csv": b"a,b\n1,2\n"}), "data.zip")
    assert (other["status"], other["reason"]) == ("quarantined", "binary")


@pytest.mark.parametrize("data", [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj garbage", b"%PDF-1.4\n" + bytes(range(256)) * 8])
def test_damaged_pdf_is_quarantined(data: bytes) -> None:
    record = parse_bytes(data, "bad.pdf")
    assert (record["status"], record["reason"], record["source"]["format"]) == ("quarantined", "corrupt_pdf", "pdf")


def test_truncated_pdf_is_quarantined(pdf_bytes: bytes) -> None:
    for cut in (len(pdf_bytes) // 3, len(pdf_bytes) // 2, len(pdf_bytes) - 200):
        record = parse_bytes(pdf_bytes[:cut], "cut.pdf")
        assert (record["status"], record["reason"]) == ("quarantined", "corrupt_pdf")


def test_image_only_pdf_needs_ocr() -> None:
    scan = render_image_pdf(["莆田市统计局2020年政府信息公开工作年度报告", "一、总体情况", "二、主动公开政府信息情况"])
    record = parse_bytes(scan, "scan.pdf")
    assert (record["status"], record["reason"], record["source"]["format"]) == ("quarantined", "needs_ocr", "pdf")


def test_blank_pdf_is_empty() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    record = parse_bytes(bytes(pdf.output()), "blank.pdf")
    assert (record["status"], record["reason"]) == ("quarantined", "empty")


def test_reader_quarantine_reasons_are_documented() -> None:
    findings = load_spec().parser_findings
    for reason in ("needs_ocr", "corrupt_docx", "zip_bomb", "decompression_bomb", "corrupt_pdf", "encrypted_pdf",
                   "unsupported_format"):
        assert findings[reason].kind == "quarantine_reason"
    assert findings["manifest_disagrees"].severity == "warning"


def test_size_limit_applies_to_every_format(docx_bytes: bytes) -> None:
    with pytest.raises(Unreadable) as caught:
        read_bytes(docx_bytes, max_bytes=100)
    assert caught.value.reason == "too_large"
