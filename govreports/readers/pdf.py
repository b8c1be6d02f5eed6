"""PDF reader: a PDF with a text layer → the pipe layout, page by page, text and ruled tables in reading order.

Tables are the ruled grids pdfplumber finds; a merged cell is written once, in the row where it starts (as
the HTML reader writes rowspan/colspan cells).  A table that runs on over a page break is read as one: the
header rows a layout tool repeats at the top of the next page are dropped, and so are bare page numbers in the
page margins.  Lines of running text that were wrapped at the right margin are joined again (without a space
between Chinese characters).

A PDF whose pages are images (scans), whose text is drawn as outlines, or whose fonts map no glyph to Unicode
has no usable text layer: it is quarantined as ``needs_ocr`` (OCR is out of scope).  A file pdfminer cannot
open is ``corrupt_pdf``; one that needs a password is ``encrypted_pdf``; one with more pages than the limit is
``too_large``.  What does not belong here: the meaning of the tables (``govreports.parser``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govreports.readers.errors import Rendered, Unreadable
from govreports.readers.layout import cell_text, join_blocks, row_line

_PAGE_NUMBER = re.compile(r"\s*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—–－]\s*\d+\s*[-—–－]|\d+\s*/\s*\d+|\d{1,4})\s*")
_HEADING = re.compile(r"\s*(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,2}(?:[、．]|\.(?!\d)))")
_NUMBER_CELL = re.compile(r"[+\-]?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class PdfLimits:
    max_pages: int = 300
    min_chars_per_page: int = 20  # fewer characters than this on an image-covered page: a scan
    scan_image_cover: float = 0.25  # share of the page an image must cover for a near-empty page to be a scan
    max_unmapped_share: float = 0.3  # share of glyphs without Unicode mapping ("(cid:N)") that makes text unusable


@dataclass
class _Table:
    top: float
    x0: float
    x1: float
    rows: list[list[str | None]]


@dataclass
class _Line:
    top: float
    bottom: float
    x0: float
    x1: float
    text: str


@dataclass
class _State:
    """What carries over from line to line and over a page break."""

    blocks: list[str] = field(default_factory=list)
    open_header: list[list[str | None]] | None = None  # first rows of the table the last page ended in
    paragraph: str | None = None  # the running paragraph, not yet written
    may_continue: bool = False  # its last line reached the right margin
    last_bottom: float | None = None  # where its last line ends on this page (None after a page break)

    def flush(self) -> None:
        if self.paragraph is not None:
            self.blocks.append(self.paragraph)
        self.paragraph, self.may_continue, self.last_bottom = None, False, None


def _join(left: str, right: str) -> str:
    """Two pieces of a wrapped line: a space only between two Latin letters."""
    if left and right and left[-1].isascii() and left[-1].isalpha() and right[0].isascii() and right[0].isalpha():
        return f"{left} {right}"
    return left + right


def pdf_cell_text(text: str | None) -> str:
    if not text:
        return ""
    pieces = [piece.strip() for piece in text.split("\n")]
    joined = ""
    for piece in pieces:
        joined = _join(joined, piece) if joined else piece
    return cell_text(joined)


def _scan_check(pages: Sequence[Any], limits: PdfLimits) -> None:
    chars_total = unmapped = scanned = 0
    drawn = False
    for page in pages:
        chars = page.chars
        chars_total += len(chars)
        unmapped += sum(1 for c in chars if c.get("text", "").startswith("(cid:"))
        images = page.images
        drawn = drawn or bool(images) or bool(page.curves)
        if len(chars) >= limits.min_chars_per_page:
            continue
        area = max(float(page.width) * float(page.height), 1.0)
        covered = 0.0
        for image in images:
            width = max(0.0, min(float(image["x1"]), float(page.width)) - max(float(image["x0"]), 0.0))
            height = max(0.0, min(float(image["bottom"]), float(page.height)) - max(float(image["top"]), 0.0))
            covered += width * height
        if covered / area >= limits.scan_image_cover or (not chars and page.curves):
            scanned += 1
    if chars_total == 0:
        if drawn:
            raise Unreadable("needs_ocr", "no text layer: the pages are images or outlines", "pdf")
        raise Unreadable("empty", "the PDF holds no text and no images", "pdf")
    if scanned * 2 >= len(pages):
        raise Unreadable("needs_ocr", f"{scanned} of {len(pages)} pages are scanned images without a text layer",
                         "pdf")
    if unmapped > limits.max_unmapped_share * chars_total:
        raise Unreadable("needs_ocr", f"{unmapped} of {chars_total} glyphs have no Unicode mapping", "pdf")


def _page_items(page: Any) -> list[_Line | _Table]:
    tables = []
    for table in page.find_tables():
        rows = table.extract()
        if max((sum(c is not None for c in r) for r in rows), default=0) >= 2:  # not a framed paragraph
            tables.append((table.bbox, rows))
    boxes = [bbox for bbox, _ in tables]

    def outside(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    text_page = page.filter(outside) if boxes else page
    items: list[_Line | _Table] = [
        _Line(float(line["top"]), float(line["bottom"]), float(line["x0"]), float(line["x1"]), line["text"])
        for line in text_page.extract_text_lines(return_chars=False) if line["text"].strip()]
    items += [_Table(float(bbox[1]), float(bbox[0]), float(bbox[2]), rows) for bbox, rows in tables]
    items.sort(key=lambda item: item.top)
    height = float(page.height)
    # Bare page numbers in the top or bottom margin band are page furniture, not report text.
    while items and isinstance(items[-1], _Line) and items[-1].top > 0.85 * height and _PAGE_NUMBER.fullmatch(items[-1].text):
        items.pop()
    while items and isinstance(items[0], _Line) and items[0].bottom < 0.15 * height and _PAGE_NUMBER.fullmatch(items[0].text):
        items.pop(0)
    return items


def _printed(row: list[str | None]) -> list[str]:
    """A row's cells as written in the layout (a page's column grid may differ from another page's)."""
    return [pdf_cell_text(c) for c in row if c is not None]


def _repeated_header(rows: list[list[str | None]], header: list[list[str | None]]) -> int:
    """How many leading rows of a continued table repeat the table's first rows (rows without numbers only)."""
    count = 0
    while count < len(rows) - 1 and count < len(header) - 1:
        printed = _printed(rows[count])
        if any(_NUMBER_CELL.fullmatch(c) for c in printed) or printed != _printed(header[count]):
            break
        count += 1
    return count


def _read_page(items: list[_Line | _Table], state: _State, left: float, right: float) -> None:
    """Append the page's blocks; ``left``/``right``: the text column's margins over the whole document."""
    state.last_bottom = None
    for index, item in enumerate(items):
        if isinstance(item, _Table):
            state.flush()
            rows, header = item.rows, item.rows
            if index == 0 and state.open_header is not None:  # the table goes on from the last page
                rows = rows[_repeated_header(rows, state.open_header):]
                header = state.open_header
            state.blocks += [row_line(pdf_cell_text(c) for c in row if c is not None)
                             for row in rows if any(c is not None for c in row)]
            state.open_header = header if index == len(items) - 1 else None
            continue
        state.open_header = None
        size = max(item.bottom - item.top, 1.0)
        text = item.text.strip()
        near = state.last_bottom is None or item.top - state.last_bottom <= 1.5 * size
        if (state.paragraph is not None and state.may_continue and near and item.x0 <= left + 0.5 * size
                and not _HEADING.match(text)):
            state.paragraph = _join(state.paragraph, text)
        else:
            state.flush()
            state.paragraph = text
        state.may_continue = item.x1 >= right - 1.5 * size
        state.last_bottom = item.bottom


def read_pdf(data: bytes, limits: PdfLimits = PdfLimits()) -> Rendered:
    """The PDF's text in the pipe layout, or :class:`Unreadable`."""
    import pdfplumber  # imported here so that text and HTML parsing never pay for it
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PDFPasswordIncorrect:
        raise Unreadable("encrypted_pdf", "the PDF needs a password", "pdf") from None
    except Exception as error:  # noqa: BLE001 - pdfminer raises anything on damaged files; the reason says so
        cause = error.__cause__ or error
        if isinstance(cause, PDFPasswordIncorrect) or "password" in str(error).lower():
            raise Unreadable("encrypted_pdf", "the PDF needs a password", "pdf") from None
        raise Unreadable("corrupt_pdf", f"pdfminer cannot open it: {type(cause).__name__}: {cause}", "pdf") from None
    with pdf:
        try:
            pages = pdf.pages
            if not pages:
                raise Unreadable("corrupt_pdf", "the PDF has no pages", "pdf")
            if len(pages) > limits.max_pages:
                raise Unreadable("too_large", f"{len(pages)} pages (limit {limits.max_pages})", "pdf")
            _scan_check(pages, limits)
            items = []
            for page in pages:
                items.append(_page_items(page))
                page.close()
            edges = [(item.x0, item.x1) for page_items in items for item in page_items]
            left = min((x0 for x0, _ in edges), default=0.0)
            right = max((x1 for _, x1 in edges), default=0.0)
            state = _State()
            for page_items in items:
                _read_page(page_items, state, left, right)
            state.flush()
        except Unreadable:
            raise
        except Exception as error:  # noqa: BLE001 - as above: a damaged page must quarantine, not crash
            raise Unreadable("corrupt_pdf", f"pdfminer cannot read it: {type(error).__name__}: {error}",
                             "pdf") from None
    text = join_blocks(state.blocks)
    if not text.strip():
        raise Unreadable("empty", "the PDF holds no text", "pdf")
    return Rendered(text, "pdf")
