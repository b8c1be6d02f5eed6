"""The Word reader: merged cells written once where they start, paragraphs in order, revisions, fields and
content controls read as Word shows them, text boxes read once as blocks of their own, page headers once before
the body, and every XML part whose prolog holds a DTD refused."""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import docx
import pytest
from lxml import etree

import govreports.readers.docx as docx_reader
from govreports.parser import parse_bytes, parse_path, parse_text
from govreports.readers import Unreadable, read_bytes
from tests.gold import CORPUS, GOLD_DIR, load_gold
from tests.render_formats import Cell, document, narrative_from, render_docx, render_text, truth_from_gold, zip_members

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NAMESPACES = {
    "w": W_NS,
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
    "wpg": "http://schemas.microsoft.com/office/word/2010/wordprocessingGroup",
    "v": "urn:schemas-microsoft-com:vml",
}
XMLNS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
W = f'xmlns:w="{W_NS}"'


# ---------------------------------------------------------------------------------------------- building files


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _with_document(document_xml: bytes, base: bytes | None = None) -> bytes:
    """A Word file (made by python-docx) whose ``word/document.xml`` is replaced by the given bytes."""
    members = _members(base or render_docx([("p", "placeholder")]))
    members["word/document.xml"] = document_xml
    return zip_members(members)


def _with_body(body: str, *, prolog: str = "") -> bytes:
    """A Word file whose body is the given WordprocessingML; ``prolog`` goes between the XML declaration and
    the root element."""
    xml = f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document {XMLNS}><w:body>{body}</w:body></w:document>'
    return _with_document(xml.encode())


def _p(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def _r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def _tbl(*rows: list[str]) -> str:
    return "<w:tbl>" + "".join("<w:tr>" + "".join(f"<w:tc>{_p(_r(c))}</w:tc>" for c in row) + "</w:tr>"
                               for row in rows) + "</w:tbl>"


def _drawing_box(content: str) -> str:
    """A DrawingML text box (a ``wps`` shape anchored to the run) holding ``content`` (paragraphs, tables)."""
    return ('<w:drawing><wp:anchor><a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
            f'wordprocessingShape"><wps:wsp><wps:txbx><w:txbxContent>{content}</w:txbxContent></wps:txbx>'
            "</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>")


def _vml_box(content: str) -> str:
    return f"<w:pict><v:shape><v:textbox><w:txbxContent>{content}</w:txbxContent></v:textbox></v:shape></w:pict>"


def _box_run(content: str) -> str:
    """A text box as Word 2010+ saves it: the DrawingML choice and its VML fallback, each holding the text."""
    return (f'<w:r><mc:AlternateContent><mc:Choice Requires="wps">{_drawing_box(content)}</mc:Choice>'
            f"<mc:Fallback>{_vml_box(content)}</mc:Fallback></mc:AlternateContent></w:r>")


def _blocks(data: bytes) -> list[str]:
    return read_bytes(data).text.split("\n\n")


# ---------------------------------------------------------------------------------------------- a real report


REAL = "dev__putian_tjj_2020"


@pytest.fixture(scope="module")
def real() -> tuple[dict[str, Any], list, dict[str, Any]]:
    """(gold, the report as blocks, the record of its text form) for one real report."""
    gold = load_gold(GOLD_DIR / f"{REAL}.json")
    template, truth = truth_from_gold(gold)
    narrative = narrative_from(parse_path(CORPUS / gold["source"]))
    meta = gold["metadata"]
    blocks = document(template, truth, agency=meta["agency"], year=meta["report_year"], narrative=narrative)
    return gold, blocks, parse_text(render_text(blocks))


def _cells(record: dict[str, Any]) -> dict[tuple[str, str, str], tuple[Any, Any]]:
    out = {}
    for table, key, column in (("active_disclosure", "item", "metric"), ("applications", "row", "applicant"),
                               ("appeals", "proceeding", "outcome")):
        for cell in record[table]:
            out[(table, cell[key], cell[column])] = (cell["value"], cell["raw"])
    return out


def _assert_reads_like_text(data: bytes, gold: dict[str, Any], text_record: dict[str, Any]) -> None:
    record = parse_bytes(data, "report.docx")
    assert (record["status"], record["source"]["format"]) == ("parsed", "docx"), record.get("message")
    assert _cells(record) == _cells(text_record)
    assert len(_cells(record)) > 100
    for key in ("agency", "report_year", "template"):
        assert record["metadata"][key] == gold["metadata"][key] == text_record["metadata"][key], key


def _edit_body(data: bytes, edit: Callable[[etree._Element], None]) -> bytes:
    members = _members(data)
    root = etree.fromstring(members["word/document.xml"])
    edit(root.find(f"{{{W_NS}}}body"))
    members["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return zip_members(members)


def _element(xml: str) -> etree._Element:
    """One element from a snippet written with the prefixes of ``NAMESPACES``."""
    return etree.fromstring(f"<w:wrap {XMLNS}>{xml}</w:wrap>")[0]


def _into_box(body: etree._Element, element: etree._Element) -> None:
    """Move a body paragraph or table into a text box (choice and fallback) anchored in an empty paragraph."""
    anchor = _element(_p(_box_run("<w:p/>")))
    for box in anchor.iter(f"{{{W_NS}}}txbxContent"):
        box.replace(box[0], copy.deepcopy(element))
    body.replace(element, anchor)


def _tag(name: str) -> str:
    return f"{{{W_NS}}}{name}"


# ---------------------------------------------------------------------------------------------- tables


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


def test_a_table_holding_a_table_is_a_frame_whose_cells_are_blocks() -> None:
    inner = _tbl(["项目", "数量"], ["收到申请", "12"])
    body = (_p(_r("前言"))
            + f"<w:tbl><w:tr><w:tc>{_p(_r('标题'))}{_p(_r('说明'))}{inner}{_p()}</w:tc>"
            + f"<w:tc>{_p(_r('旁注'))}</w:tc></w:tr></w:tbl>"
            + _tbl(["甲", "乙"]))  # a table without tables inside stays a table
    assert _blocks(_with_body(body)) == ["前言", "标题", "说明", "项目 | 数量 |", "收到申请 | 12 |", "旁注",
                                         "甲 | 乙 |"]


def test_a_report_framed_in_a_one_cell_table_reads_like_its_text(real: tuple) -> None:
    gold, blocks, text_record = real

    def frame(body: etree._Element) -> None:
        content = [child for child in body if child.tag != _tag("sectPr")]
        cell = _element("<w:tbl><w:tr><w:tc/></w:tr></w:tbl>")
        tc = next(cell.iter(_tag("tc")))
        tc.extend(content)  # moves them out of the body
        tc.append(_element("<w:p/>"))  # a cell ends with a paragraph
        body.insert(0, cell)

    _assert_reads_like_text(_edit_body(render_docx(blocks), frame), gold, text_record)


# ---------------------------------------------------------------------------------------------- running text


def test_paragraph_text_as_word_shows_it() -> None:
    body = (
        _p(_r("一、总体情况"))
        + _p(_r("收到申请"), '<w:ins w:id="1" w:author="a">' + _r("12") + "</w:ins>",
             '<w:del w:id="2" w:author="a"><w:r><w:delText>99</w:delText></w:r></w:del>', _r("件"))
        + _p('<w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t><w:br/><w:t>丙</w:t></w:r>')
        + _p(_r("正文"), '<w:r><w:drawing><w:txbxContent>' + _p(_r("文本框")) + "</w:txbxContent></w:drawing></w:r>")
        + '<w:sdt><w:sdtContent>' + _p(_r("控件内的段落")) + "</w:sdtContent></w:sdt>"
        + _p('<w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink>',
             '<w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr>')
        + _p(_r("公开"), "<w:ruby><w:rubyPr/><w:rt>" + _r("gōng kāi") + "</w:rt><w:rubyBase>" + _r("信息")
             + "</w:rubyBase></w:ruby>")
    )
    assert _blocks(_with_body(body)) == [
        "一、总体情况", "收到申请12件", "甲\t乙\n丙", "正文", "文本框", "控件内的段落", "链接", "公开信息"]


def test_tracked_changes_inserted_text_read_deleted_text_not() -> None:
    deleted_row = ('<w:tr><w:trPr><w:del w:id="9" w:author="a"/></w:trPr><w:tc><w:p><w:del w:id="10" w:author="a">'
                   "<w:r><w:delText>旧行</w:delText></w:r></w:del></w:p></w:tc><w:tc><w:p/></w:tc></w:tr>")
    inserted_row = ('<w:tr><w:trPr><w:ins w:id="11" w:author="a"/></w:trPr><w:tc><w:p><w:ins w:id="12" w:author="a">'
                    + _r("新行") + "</w:ins></w:p></w:tc><w:tc>" + _p(_r("5")) + "</w:tc></w:tr>")
    cell_change = ('<w:tc><w:p><w:del w:id="13" w:author="a"><w:r><w:delText>7</w:delText></w:r></w:del>'
                   '<w:ins w:id="14" w:author="a">' + _r("8") + "</w:ins></w:p></w:tc>")
    body = (_p(_r("共"), '<w:moveFrom w:id="3" w:author="a">' + _r("移走") + "</w:moveFrom>",
               '<w:moveTo w:id="4" w:author="a">' + _r("移来") + "</w:moveTo>")
            + f"<w:tbl><w:tr><w:tc>{_p(_r('项目'))}</w:tc>{cell_change}</w:tr>{deleted_row}{inserted_row}</w:tbl>")
    assert _blocks(_with_body(body)) == ["共移来", "项目 | 8 |", "新行 | 5 |"]


def test_field_results_read_field_codes_not() -> None:
    def field(code: str, result: str, *, separate: bool = True) -> str:
        return ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>' + code
                + ('<w:r><w:fldChar w:fldCharType="separate"/></w:r>' + result if separate else "")
                + '<w:r><w:fldChar w:fldCharType="end"/></w:r>')

    instruction = '<w:r><w:instrText xml:space="preserve"> {} </w:instrText></w:r>'
    nested_code = instruction.format("IF") + field(instruction.format("MERGEFIELD 件数"), _r("17")) \
        + instruction.format('= 1 "是" "否"')
    body = (_p(_r("第"), field(instruction.format("PAGE"), _r("3")), _r("页"))
            + _p('<w:fldSimple w:instr=" DATE \\@ &quot;yyyy年M月d日&quot; ">' + _r("2021年1月20日") + "</w:fldSimple>")
            + _p(_r("结果"), field(nested_code, _r("是")))  # a field inside another's code is code as well
            + _p(_r("索引"), field(instruction.format('XE "公开"'), "", separate=False), _r("完"))  # no result at all
            + _p('<w:r><w:t xml:space="preserve">码</w:t><w:fldChar w:fldCharType="begin"/>'
                 '<w:t>隐藏</w:t><w:fldChar w:fldCharType="separate"/><w:t>显示</w:t>'
                 '<w:fldChar w:fldCharType="end"/></w:r>'))  # field characters inside one run
    assert _blocks(_with_body(body)) == ["第3页", "2021年1月20日", "结果是", "索引完", "码显示"]


def test_content_controls_around_paragraphs_tables_rows_cells_and_runs() -> None:
    def sdt(content: str, *, placeholder: bool = False) -> str:
        shown = "<w:sdtPr><w:showingPlcHdr/></w:sdtPr>" if placeholder else "<w:sdtPr><w:alias w:val=\"x\"/></w:sdtPr>"
        return f"<w:sdt>{shown}<w:sdtContent>{content}</w:sdtContent></w:sdt>"

    cell = f"<w:tc>{_p(_r('乙'))}</w:tc>"
    row = f"<w:tr><w:tc>{_p(_r('丙'))}</w:tc><w:tc>{_p(_r('3'))}</w:tc></w:tr>"
    body = (sdt(_p(_r("控件段落")))
            + sdt(_tbl(["表", "格"]))
            + f"<w:tbl><w:tr><w:tc>{_p(_r('甲'))}</w:tc>{sdt(cell)}</w:tr>{sdt(row)}"
            + f"<w:tr>{sdt('<w:tc><w:p/></w:tc>', placeholder=True)}<w:tc>{_p(_r('4'))}</w:tc></w:tr></w:tbl>"
            + _p(_r("机关："), sdt(_r("某某局")), sdt(_r("单击或点击此处输入文字。"), placeholder=True))
            + sdt(_p(_r("单击或点击此处输入文字。")), placeholder=True))
    assert _blocks(_with_body(body)) == ["控件段落", "表 | 格 |", "甲 | 乙 |", "丙 | 3 |", " | 4 |", "机关：某某局"]


def test_word_file_without_text_is_empty() -> None:
    record = parse_bytes(_with_body(_p() + _p(_r("  ")) + _p()), "blank.docx")
    assert (record["status"], record["reason"], record["source"]["format"]) == ("quarantined", "empty", "docx")


# ---------------------------------------------------------------------------------------------- text boxes


def test_a_text_box_is_read_once_as_blocks_of_its_own_in_document_order() -> None:
    box = _p(_r("框内标题")) + _tbl(["项目", "数量"], ["申请", "4"])
    body = (_p(_r("第一段"))
            + _p(_r("锚定"), _box_run(box), _r("的句子"))  # anchored mid-sentence: after the paragraph
            + _p(_box_run(_p(_r("开头的框"))), _r("后面的文字"))  # anchored ahead of the text: before it
            + _p("<w:r>" + _vml_box(_p(_r("旧版文本框"))) + "</w:r>")  # VML only (Word 2003-2007)
            + _p(_r("末段")))
    assert _blocks(_with_body(body)) == ["第一段", "锚定的句子", "框内标题", "项目 | 数量 |", "申请 | 4 |",
                                         "开头的框", "后面的文字", "旧版文本框", "末段"]


def test_group_shapes_and_fallback_only_alternate_content() -> None:
    group = ('<w:r><mc:AlternateContent><mc:Choice Requires="wpg"><w:drawing><wp:inline><a:graphic><a:graphicData>'
             "<wpg:wgp>"
             f"<wps:wsp><wps:txbx><w:txbxContent>{_p(_r('左框'))}</w:txbxContent></wps:txbx></wps:wsp>"
             f"<wps:wsp><wps:txbx><w:txbxContent>{_p(_r('右框'))}</w:txbxContent></wps:txbx></wps:wsp>"
             "</wpg:wgp></a:graphicData></a:graphic></wp:inline></w:drawing></mc:Choice>"
             f"<mc:Fallback>{_vml_box(_p(_r('左框')) + _p(_r('右框')))}</mc:Fallback></mc:AlternateContent></w:r>")
    fallback_only = ("<w:r><mc:AlternateContent><mc:Fallback>" + _vml_box(_p(_r("仅有备用")))
                     + "</mc:Fallback></mc:AlternateContent></w:r>")
    body_level = (f'<mc:AlternateContent><mc:Choice Requires="w14">{_p(_r("正文选择"))}</mc:Choice>'
                  f"<mc:Fallback>{_p(_r('正文备用'))}</mc:Fallback></mc:AlternateContent>")
    body = _p(_r("图"), group) + _p(fallback_only) + body_level
    assert _blocks(_with_body(body)) == ["图", "左框", "右框", "仅有备用", "正文选择"]


def test_title_and_table_in_text_boxes_read_like_the_text(real: tuple) -> None:
    gold, blocks, text_record = real

    def boxes(body: etree._Element) -> None:
        _into_box(body, body.find(_tag("p")))  # the title
        _into_box(body, body.findall(_tag("tbl"))[1])  # table 三

    data = _edit_body(render_docx(blocks), boxes)
    text = read_bytes(data).text
    assert text.count(f"{gold['metadata']['agency']}{gold['metadata']['report_year']}年政府信息公开工作年度报告") == 1
    _assert_reads_like_text(data, gold, text_record)


# ---------------------------------------------------------------------------------------------- headers, footers


def _document_with_headers(*, first_page: bool, even_pages: bool) -> bytes:
    made = docx.Document()
    first = made.sections[0]
    first.header.paragraphs[0].text = "某某市统计局"
    first.header.add_paragraph("2020年政府信息公开工作年度报告")
    first.footer.paragraphs[0].text = "第 1 页 共 3 页"
    first.first_page_header.paragraphs[0].text = "首页页眉"
    first.different_first_page_header_footer = first_page
    first.even_page_header.paragraphs[0].text = "偶数页页眉"
    made.settings.odd_and_even_pages_header_footer = even_pages
    made.add_paragraph("一、总体情况")
    second = made.add_section()
    second.header.is_linked_to_previous = False  # its own header part, repeating the same lines
    second.header.paragraphs[0].text = "某某市统计局"
    second.header.add_paragraph("2020年政府信息公开工作年度报告")
    second.header.add_paragraph("附表")
    made.add_paragraph("二、主动公开政府信息情况")
    out = io.BytesIO()
    made.save(out)
    return out.getvalue()


def test_header_text_comes_once_before_the_body_footers_left_out() -> None:
    assert _blocks(_document_with_headers(first_page=False, even_pages=False)) == [
        "某某市统计局", "2020年政府信息公开工作年度报告", "附表", "一、总体情况", "二、主动公开政府信息情况"]
    assert _blocks(_document_with_headers(first_page=True, even_pages=True)) == [
        "首页页眉", "某某市统计局", "2020年政府信息公开工作年度报告", "偶数页页眉", "附表", "一、总体情况",
        "二、主动公开政府信息情况"]


def test_a_document_with_text_only_in_its_header_is_empty() -> None:
    made = docx.Document()
    made.sections[0].header.paragraphs[0].text = "某某市统计局2020年政府信息公开工作年度报告"
    out = io.BytesIO()
    made.save(out)
    record = parse_bytes(out.getvalue(), "header_only.docx")
    assert (record["status"], record["reason"]) == ("quarantined", "empty")


def test_title_only_in_the_page_header_gives_agency_and_year(real: tuple) -> None:
    gold, blocks, text_record = real
    title = blocks[0][1]
    assert blocks[0][0] == "p" and title.endswith("年政府信息公开工作年度报告")
    made = docx.Document(io.BytesIO(render_docx(blocks[1:])))
    made.sections[0].header.paragraphs[0].text = title
    out = io.BytesIO()
    made.save(out)
    assert title not in read_bytes(render_docx(blocks[1:])).text
    _assert_reads_like_text(out.getvalue(), gold, text_record)


# ---------------------------------------------------------------------------------------------- DTDs


DTD = '<!DOCTYPE w:document [<!ENTITY who "某某局">]>'
BODY = _p(_r("2020年政府信息公开工作年度报告")) + _p(_r("一、总体情况"))
LONG_PROLOGS = {
    "comments": "<!--" + "注释" * 2500 + "-->" + "<!-- x -->" * 10,
    "white_space": " \r\n\t" * 1500,
    "instructions": '<?mso-application progid="Word.Document"?>' * 120,
    "mixed": "\n".join(["<!-- 说明 -->", "<?pi a?>", " " * 4200, "<!---->"]),
}


def _refusal(data: bytes) -> Unreadable:
    with pytest.raises(Unreadable) as refused:
        read_bytes(data)
    return refused.value


@pytest.mark.parametrize("kind", sorted(LONG_PROLOGS))
def test_a_dtd_after_more_than_4_kb_of_prolog_is_refused(kind: str) -> None:
    prolog = LONG_PROLOGS[kind]
    assert len(prolog.encode()) > 4096
    refused = _refusal(_with_body(BODY, prolog=prolog + DTD))
    assert (refused.reason, refused.fmt) == ("corrupt_docx", "docx")
    assert refused.detail == "word/document.xml carries a DTD; Word parts never do: refused"
    record = parse_bytes(_with_body(BODY, prolog=prolog + DTD), "late_dtd.docx")
    assert (record["status"], record["reason"]) == ("quarantined", "corrupt_docx")
    # the same prolog without the DTD is an ordinary Word file
    assert _blocks(_with_body(BODY, prolog=prolog)) == ["2020年政府信息公开工作年度报告", "一、总体情况"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_delimiters_split_between_chunks(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way a chunk boundary can cut ``<!--``, ``-->``, ``?>`` and ``<!DOCTYPE`` (past the 4 KB head)."""
    monkeypatch.setattr(docx_reader, "_SCAN_CHUNK", chunk)
    prolog = " " * 4090 + "<!-- a - b --><?pi ?x?>\n<!---->"
    assert _refusal(_with_body(BODY, prolog=prolog + DTD)).reason == "corrupt_docx"
    assert _blocks(_with_body(BODY, prolog=prolog)) == ["2020年政府信息公开工作年度报告", "一、总体情况"]


def _utf16(xml: str, codec: str, bom: bytes) -> bytes:
    return bom + xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode(codec)


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                            ("utf-16-le", b""), ("utf-16-be", b"")])
def test_utf16_parts_are_scanned_as_utf16(codec: str, bom: bytes) -> None:
    head = f'<?xml version="1.0" encoding="UTF-8"?>{LONG_PROLOGS["comments"]}'
    tail = f"<w:document {XMLNS}><w:body>{BODY}</w:body></w:document>"
    assert _refusal(_with_document(_utf16(head + DTD + tail, codec, bom))).reason == "corrupt_docx"
    assert _blocks(_with_document(_utf16(head + tail, codec, bom))) == ["2020年政府信息公开工作年度报告",
                                                                        "一、总体情况"]


def test_encodings_opc_does_not_allow_are_refused() -> None:
    """In UTF-7 ``<!DOCTYPE`` can be written without a single ``<`` byte; in UCS-4 every other byte is zero."""
    utf7 = (b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE w:document +AFs-+ADw-!ENTITY who "x"+AD4-+AF0-+AD4-'
            + f"<w:document {XMLNS}><w:body>{BODY}</w:body></w:document>".encode("utf-7"))
    refused = _refusal(_with_document(utf7))
    assert refused.reason == "corrupt_docx" and "declares the encoding 'UTF-7'" in refused.detail
    ucs4 = f"<w:document {XMLNS}><w:body>{BODY}</w:body></w:document>".encode("utf-32-be")
    assert "UCS-4" in _refusal(_with_document(ucs4)).detail
    padded = f'<?xml version="1.0"{" " * 2000}encoding="UTF-7"?><w:document {XMLNS}/>'.encode()
    assert "XML declaration longer than" in _refusal(_with_document(padded)).detail


def test_parts_are_told_by_content_type_not_by_name() -> None:
    """python-docx parses the main document whatever its name: a DTD in ``word/main.bin`` is refused; an SVG
    picture (never parsed) may carry its usual DOCTYPE."""
    members = _members(_with_body(BODY, prolog=LONG_PROLOGS["white_space"] + DTD))
    members["word/main.bin"] = members.pop("word/document.xml")
    members["word/_rels/main.bin.rels"] = members.pop("word/_rels/document.xml.rels")
    members["_rels/.rels"] = members["_rels/.rels"].replace(b"word/document.xml", b"word/main.bin")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(b"/word/document.xml", b"/word/main.bin")
    refused = _refusal(zip_members(members))
    assert (refused.reason, refused.detail) == ("corrupt_docx",
                                                "word/main.bin carries a DTD; Word parts never do: refused")

    svg = (b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>')
    members = _members(_with_body(BODY))
    members["word/media/image1.svg"] = svg
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"<Default ", b'<Default Extension="svg" ContentType="image/svg+xml"/><Default ', 1)
    assert _blocks(zip_members(members)) == ["2020年政府信息公开工作年度报告", "一、总体情况"]


def test_a_dtd_in_the_content_types_or_a_header_part_is_refused() -> None:
    members = _members(_document_with_headers(first_page=False, even_pages=False))
    header = next(name for name in members if re.fullmatch(r"word/header\d*\.xml", name))
    for name in ("[Content_Types].xml", header):
        changed = dict(members)
        changed[name] = re.sub(rb"(<\?xml[^>]*\?>)", rb"\1" + b"<!--" + b"x" * 5000 + b"-->" + DTD.encode(),
                               members[name], count=1)
        assert changed[name] != members[name]
        assert _refusal(zip_members(changed)).detail.startswith(f"{name} carries a DTD")
