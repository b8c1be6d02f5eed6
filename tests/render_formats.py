"""Test helper: a report drawn as the national template draws it, in HTML, DOCX and PDF, and in the pipe text.

The tables carry the template's merged cells: table 二's block marker rows across the table and metric columns
of unequal widths; table 三's two-row applicant header (法人或其他组织 over its five columns, 自然人 and 总计
two rows high), the 三、本年度办理结果 label down the whole outcome block and the （三）–（六） group labels
down their rows; table 四's three-row header (行政复议 / 行政诉讼, then 未经复议直接起诉 / 复议后起诉 over their
outcomes).  ``render_text`` writes the same document in the pipe layout of ``tests/render.py`` (every merged
cell once, where it starts), which is what every reader must give back.

Truth is the dict of ``tests/render.py``; a value of ``None`` prints a blank cell.
"""

from __future__ import annotations

import html
import io
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.render import HEADINGS, SPEC, table_rows

FONT = Path(__file__).parent / "fixtures" / "readers" / "fonts" / "wqy-microhei-subset.ttf"
_OUTCOME_GROUP = ("granted", "total_processed")  # 三、本年度办理结果 spans these rows and all between
_SUBGROUPS = ("不予公开", "无法提供", "不予处理", "其他处理")


@dataclass(frozen=True)
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1


Grid = list[list[Cell]]  # rows of the cells that start in them (a merged cell appears once)
Block = tuple[str, "str | Grid"]  # ("p", text) or ("table", grid)


def _spans(units: int, count: int) -> list[int]:
    base, extra = divmod(units, count)
    spans = [base] * count
    for i in range(extra):  # the middle columns are the wide ones
        spans[(count - extra) // 2 + i] += 1
    return spans


def active_grid(template: str, truth: dict) -> Grid:
    units = 4 if template == "2019" else 3
    grid: Grid = []
    for labels, values in table_rows(template, truth)["active_disclosure"]:
        if len(labels) == 1 and not values and labels[0].startswith("第二十条"):
            grid.append([Cell(labels[0], colspan=1 + units)])
        elif not values:  # header: 信息内容 | metrics
            grid.append([Cell(labels[0]), *(Cell(t, colspan=s) for t, s in zip(labels[1:], _spans(units, len(labels) - 1),
                                                                                strict=True))])
        else:
            grid.append([Cell(labels[0]), *(Cell(v, colspan=s) for v, s in zip(values, _spans(units, len(values)),
                                                                               strict=True))])
    return grid


def applications_grid(template: str, truth: dict, *, header_style: str = "2021") -> Grid:
    """``header_style`` "2021": the note cell three rows high; "2019": the note one row high over a blank cell."""
    rows = SPEC.rows_for(template)
    codes = [r.code for r in rows]
    first, last = codes.index(_OUTCOME_GROUP[0]), codes.index(_OUTCOME_GROUP[1])
    printed = table_rows(template, truth)["applications"]
    note, _ = printed[0]
    grid: Grid = []
    if header_style == "2021":
        grid.append([Cell(note[0], rowspan=3, colspan=3), Cell("申请人情况", colspan=7)])
        grid.append([Cell("自然人", rowspan=2), Cell("法人或其他组织", colspan=5), Cell("总计", rowspan=2)])
    else:
        grid.append([Cell(note[0], colspan=3), Cell("申请人情况", colspan=7)])
        grid.append([Cell("", rowspan=2, colspan=3), Cell("自然人", rowspan=2), Cell("法人或其他组织", colspan=5),
                     Cell("总计", rowspan=2)])
    grid.append([Cell(t) for t in printed[2][0]])
    for index, (row, (labels, values)) in enumerate(zip(rows, printed[3:], strict=True)):
        in_outcomes = first <= index <= last
        in_subgroup = row.group in _SUBGROUPS and sum(r.group == row.group for r in rows) > 1
        cells: list[Cell] = []
        for label in labels[:-1]:  # group labels printed in this row: they run down their group
            if label.startswith("三、"):
                cells.append(Cell(label, rowspan=last - first + 1))
            else:
                cells.append(Cell(label, rowspan=sum(r.group == row.group for r in rows)))
        cells.append(Cell(labels[-1], colspan=3 - in_outcomes - in_subgroup))
        cells += [Cell(v) for v in values]
        grid.append(cells)
    return grid


def appeals_grid(template: str, truth: dict) -> Grid:
    outcomes = [SPEC.outcomes[o].zh for o in SPEC.outcomes]
    values = table_rows(template, truth)["appeals"][-1][1]
    return [
        [Cell("行政复议", colspan=5), Cell("行政诉讼", colspan=10)],
        [*(Cell(o, rowspan=2) for o in outcomes), Cell("未经复议直接起诉", colspan=5), Cell("复议后起诉", colspan=5)],
        [Cell(o) for o in outcomes * 2],
        [Cell(v) for v in values],
    ]


def _blankable(truth: dict) -> dict:
    """The truth with ``None`` printed as a blank cell (table_rows formats values with str())."""
    out = {}
    for table, cells in truth.items():
        out[table] = {k: _Blank() if v is None else v for k, v in cells.items()}
    return out


class _Blank:
    def __str__(self) -> str:
        return ""


def document(template: str, truth: dict, *, agency: str = "某某市某某局", year: int = 2020,
             narrative: dict[int, str] | None = None, header_style: str = "2021") -> list[Block]:
    """The report as blocks, worded as ``tests/render.py`` words it (so that its pipe text is the same);
    ``narrative``: texts of sections 一, 五, 六 (one paragraph per line)."""
    narrative = narrative or {}
    truth = _blankable(truth)
    return split_paragraphs([
        ("p", f"{agency}{year}年政府信息公开工作年度报告"),
        ("p", f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"),
        ("p", "一、总体情况"),
        ("p", narrative.get(1, "本年度我单位认真贯彻落实《条例》。")),
        ("p", HEADINGS[0]), ("table", active_grid(template, truth)),
        ("p", HEADINGS[1]), ("table", applications_grid(template, truth, header_style=header_style)),
        ("p", HEADINGS[2]), ("table", appeals_grid(template, truth)),
        ("p", "五、存在的主要问题及改进情况"), ("p", narrative.get(5, "公开意识有待提高。")),
        ("p", "六、其他需要报告的事项"), ("p", narrative.get(6, "无。")),
    ])


# ---------------------------------------------------------------------------------------------- text


def render_text(blocks: list[Block]) -> str:
    lines: list[str] = []
    for kind, content in blocks:
        if kind == "p":
            lines.append(content)  # type: ignore[arg-type]
        else:
            lines += [" | ".join(c.text for c in row) + " |" for row in content]  # type: ignore[union-attr]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- HTML


def _html_cell(cell: Cell) -> str:
    spans = (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "") + (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "")
    text = html.escape(cell.text) if cell.text else "&nbsp;"
    return (f'<td width="49" valign="middle" style="border:windowtext 1pt solid"{spans}>'
            f'<p class="MsoNormal" align="center"><span style="font-family:宋体">{text}</span></p></td>')


def render_html(blocks: list[Block], *, charset: str = "utf-8", title: str = "") -> str:
    """A whole page as sites publish it: head with scripts, navigation chrome, the report, a footer."""
    body: list[str] = []
    for kind, content in blocks:
        if kind == "p":
            body.append(f'<p style="text-indent:2em"><span>{html.escape(content)}</span></p>')  # type: ignore[arg-type]
        else:
            rows = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>\n" for row in content)  # type: ignore[union-attr]
            body.append(f'<div class="TRS_Editor"><table class="MsoNormalTable" border="1" cellspacing="0">'
                        f"<tbody>\n{rows}</tbody></table></div>")
    return (f'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{html.escape(title)}</title><style>td {{ padding: 0 5.4pt; }}</style>"
            '<script>var _hmt = _hmt || []; document.write("<div>统计代码</div>");</script></head>\n<body>'
            '<div class="nav"><a href="/">首页</a> &gt; <a href="/zfxxgk/">政府信息公开</a> &gt; 政府信息公开年报</div>\n'
            '<div class="article">' + "\n".join(body) + "</div>\n"
            '<div class="footer">主办单位：某某市人民政府办公室 网站标识码：3503000001 闽ICP备05009235号</div>'
            "</body></html>\n")


# ---------------------------------------------------------------------------------------------- DOCX


def _positions(grid: Grid) -> tuple[list[list[tuple[int, int, Cell]]], int]:
    """Each row's cells with their (row, column) in the full grid, laid out as HTML lays out spans."""
    taken: set[tuple[int, int]] = set()
    out: list[list[tuple[int, int, Cell]]] = []
    width = 0
    for r, row in enumerate(grid):
        c = 0
        placed = []
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
        out.append(placed)
    return out, width


def _docx_cell(text: str, colspan: int, vmerge: str | None):
    """A ``w:tc`` as Word writes a merged cell: ``w:gridSpan`` across, ``w:vMerge`` restart/continue down."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc = OxmlElement("w:tc")
    properties = OxmlElement("w:tcPr")
    if colspan > 1:
        span = OxmlElement("w:gridSpan")
        span.set(qn("w:val"), str(colspan))
        properties.append(span)
    if vmerge is not None:
        merge = OxmlElement("w:vMerge")
        if vmerge == "restart":
            merge.set(qn("w:val"), "restart")
        properties.append(merge)
    tc.append(properties)
    paragraph = OxmlElement("w:p")
    if text:
        run = OxmlElement("w:r")
        text_element = OxmlElement("w:t")
        text_element.text = text
        run.append(text_element)
        paragraph.append(run)
    tc.append(paragraph)
    return tc


def zip_members(members: dict[str, bytes]) -> bytes:
    """A ZIP archive (deflated) holding ``members`` by name: hand-built Word packages and archives."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def render_docx(blocks: list[Block]) -> bytes:
    """A Word file: paragraphs, and tables whose merged cells are encoded as Word encodes them."""
    import docx
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    document = docx.Document()
    document.styles["Normal"].font.size = Pt(9)
    for kind, content in blocks:
        if kind == "p":
            document.add_paragraph(content)  # type: ignore[arg-type]
            continue
        placed, width = _positions(content)  # type: ignore[arg-type]
        starts = {(r, c): cell for row in placed for r, c, cell in row}
        below: dict[tuple[int, int], Cell] = {}  # grid slots a cell from a row above runs down into
        for (r, c), cell in starts.items():
            for dr in range(1, cell.rowspan):
                below[(r + dr, c)] = cell
        table = document.add_table(rows=0, cols=width)
        table.style = "Table Grid"
        for r in range(len(placed)):
            tr = OxmlElement("w:tr")
            c = 0
            while c < width:
                if (r, c) in starts:
                    cell = starts[(r, c)]
                    tr.append(_docx_cell(cell.text, cell.colspan, "restart" if cell.rowspan > 1 else None))
                elif (r, c) in below:
                    cell = below[(r, c)]
                    tr.append(_docx_cell("", cell.colspan, "continue"))
                else:
                    cell = Cell("")
                    tr.append(_docx_cell("", 1, None))
                c += cell.colspan
            table._tbl.append(tr)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- PDF


@cache
def _font_characters() -> frozenset[str]:
    from fontTools.ttLib import TTFont

    return frozenset(chr(code) for code in TTFont(str(FONT)).getBestCmap())


def _check_glyphs(blocks: list[Block]) -> None:
    """The shipped font is a subset: a character outside it would vanish from the PDF, so say so instead."""
    texts = [str(c) for kind, c in blocks if kind == "p"]
    texts += [cell.text for kind, grid in blocks if kind == "table" for row in grid for cell in row]  # type: ignore[union-attr]
    missing = {ch for text in texts for ch in text if not ch.isspace()} - _font_characters()
    if missing:
        raise ValueError(f"characters missing from {FONT.name}: {''.join(sorted(missing))}; regenerate it with "
                         "tests/fixtures/readers/fonts/subset_font.py")


def render_pdf(blocks: list[Block], *, break_table: int | None = None, break_at: float = 0.55) -> bytes:
    """An A4 PDF with a text layer (the shipped CJK font), ruled tables, header rows repeated on every page a
    table runs onto, and page numbers in the footer.  ``break_table``: start that table (0, 1, 2) on a fresh page
    at ``break_at`` of its height, so that a long enough table must break across pages."""
    from fpdf import FPDF, FontFace
    from fpdf.enums import TableHeadingsDisplay

    class Report(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.cell(0, 8, f"- {self.page_no()} -", align="C")

    _check_glyphs(blocks)
    pdf = Report(format="A4")
    pdf.add_font("wqy", fname=str(FONT))
    pdf.set_font("wqy", size=9)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    tables = 0
    for kind, content in blocks:
        if kind == "p":
            if break_table is not None and tables == break_table and content in HEADINGS:
                pdf.add_page()
                pdf.set_y(pdf.h * break_at)
            pdf.multi_cell(0, 6, content or " ", new_x="LMARGIN", new_y="NEXT")  # type: ignore[arg-type]
            continue
        grid: Grid = content  # type: ignore[assignment]
        _, width = _positions(grid)
        heading_rows = {15: 3, 10: 3}.get(width, 0)
        widths = {10: (14, 14, 44, 14, 14, 14, 14, 14, 14, 14), 15: (12,) * 15}.get(width, (50, *(30,) * (width - 1)))
        with pdf.table(col_widths=widths, num_heading_rows=heading_rows, first_row_as_headings=heading_rows > 0,
                       text_align="CENTER", line_height=5,
                       repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
                       headings_style=FontFace(emphasis="")) as table:
            for row in grid:
                printed = table.row()
                for cell in row:
                    printed.cell(cell.text, rowspan=cell.rowspan, colspan=cell.colspan)
        pdf.ln(3)
        tables += 1
    return bytes(pdf.output())


def render_image_pdf(text_lines: list[str]) -> bytes:
    """A 'scanned' report: each page one picture of text, no text layer at all."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 28)
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(text_lines):
        draw.text((100, 120 + 48 * i), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------- real reports


def truth_from_gold(gold: dict) -> tuple[str, dict]:
    """(template, truth) of a gold file (tests/fixtures/gold/README.md); ``None`` cells print blank.

    Gold files with undecidable ("?") cells have no truth to render: ValueError."""
    applicants, outcomes = list(SPEC.applicants), list(SPEC.outcomes)
    truth: dict = {"active_disclosure": {}, "applications": {}, "appeals": {}}
    for item, metrics in gold["active_disclosure"].items():
        for metric, value in metrics.items():
            truth["active_disclosure"][(item, metric)] = value
    for row, values in gold["applications"].items():
        truth["applications"].update({(row, a): v for a, v in zip(applicants, values, strict=True)})
    for proceeding, values in gold["appeals"].items():
        truth["appeals"].update({(proceeding, o): v for o, v in zip(outcomes, values, strict=True)})
    if any(v == "?" for cells in truth.values() for v in cells.values()):
        raise ValueError("the gold file has undecidable cells")
    return gold["metadata"]["template"], truth


def narrative_from(record: dict) -> dict[int, str]:
    """Sections 一, 五 and 六 of a parsed report (the narrative around the tables)."""
    return {s["number"]: s["text"] for s in record["sections"] if s["number"] in (1, 5, 6) and s["text"]}


def split_paragraphs(blocks: list[Block]) -> list[Block]:
    """Multi-line narrative as one paragraph per line (as a page or a Word file holds it)."""
    out: list[Block] = []
    for kind, content in blocks:
        if kind == "p":
            out += [("p", line) for line in str(content).split("\n") if line.strip()]
        else:
            out.append((kind, content))
    return out
