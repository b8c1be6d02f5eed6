"""The Word reader: merged cells written once where they start, paragraphs in order, revisions and content
controls read as Word shows them, text boxes left out."""

from __future__ import annotations

import io
import zipfile

from govreports.readers import read_bytes
from tests.render_formats import Cell, render_docx

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _with_body(body: str) -> bytes:
    """A Word file (made by python-docx) whose body is replaced by the given WordprocessingML."""
    base = render_docx([("p", "placeholder")])
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["word/document.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body}</w:body></w:document>'.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _p(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def _r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_merged_cells_are_written_once_where_they_start() -> None:
    grid = [
        [Cell("项目", rowspan=2), Cell("行政诉讼", colspan=2), Cell("总计", rowspan=2)],
        [Cell("直接起诉"), Cell("复议后")],
        [Cell("件数"), Cell("1"), Cell(""), Cell("1")],
    ]
    text = read_bytes(render_docx([("p", "标题"), ("table", grid), ("p", "结尾")])).text
    assert text.splitlines() == ["标题", "", "项目 | 行政诉讼 | 总计 |", "", "直接起诉 | 复议后 |", "",
                                 "件数 | 1 |  | 1 |", "", "结尾"]


def test_legacy_horizontal_merge_and_cell_paragraphs() -> None:
    body = ("<w:tbl><w:tr>"
            f"<w:tc><w:tcPr><w:hMerge w:val=\"restart\"/></w:tcPr>{_p(_r('法人或'))}{_p(_r('其他组织'))}</w:tc>"
            f"<w:tc><w:tcPr><w:hMerge/></w:tcPr>{_p()}</w:tc>"
            f"<w:tc>{_p(_r(' 3 '))}</w:tc>"
            "</w:tr></w:tbl>")
    assert read_bytes(_with_body(body)).text == "法人或 其他组织 | 3 |"


def test_paragraph_text_as_word_shows_it() -> None:
    body = (
        _p(_r("一、总体情况"))
        + _p(_r("收到申请"), '<w:ins w:id="1" w:author="a">' + _r("12") + "</w:ins>",
             '<w:del w:id="2" w:author="a"><w:r><w:delText>99</w:delText></w:r></w:del>', _r("件"))
        + _p('<w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t><w:br/><w:t>丙</w:t></w:r>')
        + _p(_r("正文"), '<w:r><w:drawing><w:txbxContent>' + _p(_r("文本框")) + "</w:txbxContent></w:drawing></w:r>")
        + '<w:sdt><w:sdtContent>' + _p(_r("控件内的段落")) + "</w:sdtContent></w:sdt>"
        + _p('<w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink>', '<w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr>')
    )
    assert read_bytes(_with_body(body)).text.split("\n\n") == [
        "一、总体情况", "收到申请12件", "甲\t乙\n丙", "正文", "控件内的段落", "链接"]


def test_word_file_without_text_is_empty() -> None:
    from govreports.parser import parse_bytes

    record = parse_bytes(_with_body(_p() + _p(_r("  ")) + _p()), "blank.docx")
    assert (record["status"], record["reason"], record["source"]["format"]) == ("quarantined", "empty", "docx")
