"""PDF reader: a PDF with a text layer → the pipe layout, page by page, text and ruled tables in reading order.

Tables are the ruled grids pdfplumber finds; a merged cell is written once, in the row where it starts (as
the HTML reader writes rowspan/colspan cells).  A table that runs on over a page break is read as one: the
header rows a layout tool repeats at the top of the next page are dropped, and so is the page furniture around
the break — page numbers, and running headers and footers (a line at the top or bottom edge that recurs at the
same height on many pages, such as the report title, "第 2 页 共 5 页", or the date and address a browser
prints).  Lines of running text that were wrapped at the right margin are joined again (without a space
between Chinese characters).

Pages are read one at a time and their parsed objects released before the next, so memory does not grow with
the page count; only each page's lines and tables are kept.  Streams are inflated under a budget
(:class:`PdfLimits`): a file whose streams would inflate beyond it is a ``decompression_bomb``, refused before
the memory is spent.

A PDF whose pages are images (scans), whose text is drawn as outlines, or whose fonts map no glyph to Unicode
has no usable text layer: it is quarantined as ``needs_ocr`` (OCR is out of scope), as soon as the pages read
so far decide it.  A file pdfminer cannot open is ``corrupt_pdf``; one that needs a password is
``encrypted_pdf``; one with more pages than the limit is ``too_large``.  What does not belong here: the meaning
of the tables (``govreports.parser``).
"""

from __future__ import annotations

import io
import math
import re
import threading
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

from govreports.readers.errors import Rendered, Unreadable
from govreports.readers.layout import cell_text, join_blocks, row_line

_PAGE_NUMBER = re.compile(r"\s*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—–－]\s*\d+\s*[-—–－]|\d+\s*/\s*\d+|\d{1,4})\s*")
_HEADING = re.compile(r"\s*(?:[一二三四五六七八九十]{1,3}[、.．]|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,2}(?:[、．]|\.(?!\d)))")
_NUMBER_CELL = re.compile(r"[+\-]?\d[\d,]*(?:\.\d+)?")
_WORD_CHARACTER = re.compile(r"[^\W\d_]")  # a letter, Chinese characters included
_DIGITS = re.compile(r"\d+")
_INFLATE_CHUNK = 1 << 20


@dataclass(frozen=True)
class PdfLimits:
    max_pages: int = 300
    min_chars_per_page: int = 20  # fewer characters than this on an image-covered page: a scan
    scan_image_cover: float = 0.25  # share of the page an image must cover for a near-empty page to be a scan
    max_unmapped_share: float = 0.3  # share of glyphs without Unicode mapping ("(cid:N)") that makes text unusable
    # Everything pdfminer inflates for one document (content, fonts, object streams; images are never inflated).
    # Reports need a few MB; whole embedded CJK fonts some tens.
    max_inflated_bytes: int = 256 << 20
    # Text, fonts and cross-reference data inflate some tens-fold at most; only runs of the same bytes inflate by
    # hundreds — small tables such as a font's CIDToGIDMap (128 KB at most) do, far below the floor.
    max_inflate_ratio: int = 200
    inflate_ratio_floor: int = 1 << 20  # a stream's output up to this size is never judged by its ratio
    margin_band: float = 0.15  # share of the page height at the top and bottom where headers and footers sit
    # A line at a page edge recurring on this share of the pages (and on two at least) is a running header or
    # footer.  Less than half: a layout tool may print one header on odd pages and another on even pages.
    running_share: float = 0.4
    running_tolerance: float = 2.0  # points: "the same height" on two pages


# ------------------------------------------------------------------------------------ inflating under a budget


class _Bomb(Exception):
    """A stream went over the document's inflation budget (raised from inside pdfminer)."""


@dataclass
class _Inflation:
    """The bytes one document's streams have inflated to so far, against its limits."""

    limits: PdfLimits
    total: int = 0
    breach: str | None = None  # kept because pdfminer catches and goes past some errors

    def charge(self, size: int, stream_out: int, stream_in: int) -> None:
        """``size`` more bytes of a stream that has made ``stream_out`` bytes of ``stream_in`` input so far."""
        self.total += size
        limits = self.limits
        if self.total > limits.max_inflated_bytes:
            self._refuse(f"its streams inflate to more than {limits.max_inflated_bytes} bytes")
        if stream_out > limits.inflate_ratio_floor and stream_out > limits.max_inflate_ratio * max(stream_in, 1):
            self._refuse(f"a stream inflates more than {stream_out // max(stream_in, 1)}-fold "
                         f"({stream_in} bytes to {stream_out} so far)")

    def check(self) -> None:
        if self.breach is not None:  # one breach ends all inflating, even where pdfminer went on past it
            raise _Bomb(self.breach)

    def _refuse(self, detail: str) -> None:
        self.breach = detail
        raise _Bomb(detail)

    def unreadable(self) -> Unreadable | None:
        if self.breach is None:
            return None
        limits = self.limits
        return Unreadable("decompression_bomb", f"{self.breach}; the limits are {limits.max_inflated_bytes} bytes per "
                          f"document and {limits.max_inflate_ratio}-fold per stream", "pdf")


# The budget of the document being read in this thread (or task); None outside read_pdf, where pdfminer inflates
# as it always does.
_INFLATION: ContextVar[_Inflation | None] = ContextVar("govreports_pdf_inflation", default=None)
_INSTALL = threading.Lock()


def _inflate(data: bytes, meter: _Inflation, wbits: int = zlib.MAX_WBITS) -> bytes:
    """``zlib.decompress``, one chunk at a time, each charged to the budget before the next one is made."""
    meter.check()
    inflater = zlib.decompressobj(wbits)
    chunks: list[bytes] = []
    pending, made = data, 0
    while not inflater.eof:
        chunk = inflater.decompress(pending, _INFLATE_CHUNK)
        pending = inflater.unconsumed_tail
        if not chunk:  # the input is spent (or zlib is stuck): done, or truncated
            break
        made += len(chunk)
        meter.charge(len(chunk), made, len(data) - len(pending))
        chunks.append(chunk)
    if not inflater.eof:  # as zlib.decompress does: pdfminer then tries its own salvage of a truncated stream
        raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return b"".join(chunks)


def _lzw_decode(data: bytes) -> bytes:
    """pdfminer's LZW decoder, with its output charged as it comes (LZW inflates up to some 2500-fold too)."""
    from pdfminer.lzw import LZWDecoder

    meter = _INFLATION.get()
    if meter is not None:
        meter.check()
    chunks: list[bytes] = []
    made = charged = 0
    for chunk in LZWDecoder(io.BytesIO(data)).run():
        chunks.append(chunk)
        made += len(chunk)
        if meter is not None and made - charged >= _INFLATE_CHUNK:
            meter.charge(made - charged, made, len(data))
            charged = made
    if meter is not None:
        meter.charge(made - charged, made, len(data))
    return b"".join(chunks)


class _MeteredZlib:
    """Stands in for the ``zlib`` module inside ``pdfminer.pdftypes``, where every stream filter is applied:
    ``decompress`` charges the budget of the document being read, if any; everything else is zlib's own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def decompress(data: bytes, wbits: int = zlib.MAX_WBITS, bufsize: int = zlib.DEF_BUF_SIZE) -> bytes:
        meter = _INFLATION.get()
        return zlib.decompress(data, wbits, bufsize) if meter is None else _inflate(data, meter, wbits)


def _install_meter() -> None:
    """pdfminer inflates whole streams in one call, without a limit, and has no hook for one: its module globals
    are swapped once for metered versions, which behave as before wherever no budget is set."""
    from pdfminer import pdftypes

    with _INSTALL:
        if not isinstance(pdftypes.zlib, _MeteredZlib):
            pdftypes.zlib = _MeteredZlib()  # type: ignore[assignment]
            pdftypes.lzwdecode = _lzw_decode


# ------------------------------------------------------------------------------------------ reading the pages


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
class _Page:
    """What is kept of a read page: its height and its lines and tables, top to bottom."""

    height: float
    items: list[_Line | _Table]


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


def _is_scanned(page: Any, chars: int, limits: PdfLimits) -> bool:
    """A page with (almost) no text, mostly covered by images or drawn only with outlines."""
    if chars >= limits.min_chars_per_page:
        return False
    width, height = float(page.width), float(page.height)
    covered = 0.0
    for image in page.images:
        covered += (max(0.0, min(float(image["x1"]), width) - max(float(image["x0"]), 0.0))
                    * max(0.0, min(float(image["bottom"]), height) - max(float(image["top"]), 0.0)))
    return covered / max(width * height, 1.0) >= limits.scan_image_cover or (not chars and bool(page.curves))


@dataclass
class _TextLayer:
    """The evidence for a usable text layer, page by page."""

    pages: int
    read: int = 0
    chars: int = 0
    unmapped: int = 0
    scanned: int = 0
    drawn: bool = False  # any image or outline at all

    def add(self, page: Any, limits: PdfLimits) -> None:
        """Count one page; ``needs_ocr`` as soon as the scanned pages are a majority that no page left can undo."""
        chars = page.chars
        self.read += 1
        self.chars += len(chars)
        self.unmapped += sum(1 for c in chars if c.get("text", "").startswith("(cid:"))
        self.drawn = self.drawn or bool(page.images) or bool(page.curves)
        self.scanned += _is_scanned(page, len(chars), limits)
        if self.scanned * 2 >= self.pages:
            share = (f"{self.scanned} of {self.pages} pages are" if self.read == self.pages else
                     f"at least {self.scanned} of {self.pages} pages (decided at page {self.read}) are")
            raise Unreadable("needs_ocr", f"{share} scanned images without a text layer", "pdf")

    def verdict(self, limits: PdfLimits) -> None:
        """After the last page: the document as a whole has no text, or text without Unicode."""
        if self.chars == 0:
            if self.drawn:
                raise Unreadable("needs_ocr", "no text layer: the pages are images or outlines", "pdf")
            raise Unreadable("empty", "the PDF holds no text and no images", "pdf")
        if self.unmapped > limits.max_unmapped_share * self.chars:
            raise Unreadable("needs_ocr", f"{self.unmapped} of {self.chars} glyphs have no Unicode mapping", "pdf")


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
    if text_page is not page:
        text_page.close()  # its filtered objects and text map; the page itself is closed by the caller
    items += [_Table(float(bbox[1]), float(bbox[0]), float(bbox[2]), rows) for bbox, rows in tables]
    items.sort(key=lambda item: item.top)
    return items


# ------------------------------------------------------------------------------------------ page furniture


@dataclass(frozen=True)
class _EdgeLine:
    """A line at a page's top (edge 0) or bottom (edge 1) edge; ``offset``: its distance from that edge."""

    edge: int
    offset: float
    line: _Line


def _outer_lines(items: Iterable[_Line | _Table], inside: Callable[[_Line], bool]) -> list[_Line]:
    """The lines from a page edge inwards while they lie in the margin band, up to the first table (three at
    most: headers and footers are short)."""
    lines: list[_Line] = []
    for item in items:
        if len(lines) == 3 or not isinstance(item, _Line) or not inside(item):
            break
        lines.append(item)
    return lines


def _edge_lines(page: _Page, limits: PdfLimits) -> tuple[list[_EdgeLine], list[_EdgeLine]]:
    """The lines at the top and the bottom edge of a page, outermost first."""
    band = limits.margin_band * page.height
    top = _outer_lines(page.items, lambda line: line.bottom < band)
    bottom = _outer_lines(reversed(page.items), lambda line: line.top > page.height - band)
    return ([_EdgeLine(0, line.top, line) for line in top],
            [_EdgeLine(1, page.height - line.bottom, line) for line in bottom])


def _running_key(text: str) -> str | None:
    """What a running header or footer keeps from page to page: its words, any number in place of each number
    (page numbers, dates); None for a line without words (a bare number is furniture only as a page number)."""
    compact = "".join(text.split())
    return _DIGITS.sub("#", compact) if _WORD_CHARACTER.search(compact) else None


def _drop_furniture(pages: list[_Page], limits: PdfLimits) -> None:
    """Remove page numbers and running headers and footers, so that a table broken over pages meets itself.

    A running line recurs at the same distance from the same page edge on many pages, and hardly anywhere else:
    report text that happens to repeat (a form line, a caption) also turns up away from the edges."""
    edges = [_edge_lines(page, limits) for page in pages]
    seen: dict[tuple[int, str], list[tuple[int, float]]] = defaultdict(list)  # (edge, key) → (page, offset)
    for number, page_edges in enumerate(edges):
        for edge_line in (e for side in page_edges for e in side):
            if (key := _running_key(edge_line.line.text)) is not None:
                seen[(edge_line.edge, key)].append((number, edge_line.offset))
    everywhere = Counter(_running_key(item.text) for page in pages for item in page.items if isinstance(item, _Line))
    needed = max(2, math.ceil(limits.running_share * len(pages)))

    def furniture(edge_line: _EdgeLine) -> bool:
        if _PAGE_NUMBER.fullmatch(edge_line.line.text):
            return True
        key = _running_key(edge_line.line.text)
        if key is None:
            return False
        alike = [number for number, offset in seen[(edge_line.edge, key)]
                 if abs(offset - edge_line.offset) <= limits.running_tolerance]
        return len(set(alike)) >= needed and len(alike) > everywhere[key] - len(alike)

    for page, page_edges in zip(pages, edges, strict=True):
        # from each edge inwards: the first line that is not furniture is report text, and so is all after it
        dropped = {id(e.line) for side in page_edges for e in takewhile(furniture, side)}
        if dropped:
            page.items = [item for item in page.items if id(item) not in dropped]


# ------------------------------------------------------------------------------------------ writing the layout


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


def _write(pages: list[_Page]) -> str:
    edges = [(item.x0, item.x1) for page in pages for item in page.items]
    left = min((x0 for x0, _ in edges), default=0.0)
    right = max((x1 for _, x1 in edges), default=0.0)
    state = _State()
    for page in pages:
        _read_page(page.items, state, left, right)
    state.flush()
    return join_blocks(state.blocks)


# ------------------------------------------------------------------------------------------ the document


def _open(data: bytes) -> Any:
    import pdfplumber  # imported here so that text and HTML parsing never pay for it
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        return pdfplumber.open(io.BytesIO(data))
    except PDFPasswordIncorrect:
        raise Unreadable("encrypted_pdf", "the PDF needs a password", "pdf") from None
    except Exception as error:  # noqa: BLE001 - pdfminer raises anything on damaged files; the reason says so
        cause = error.__cause__ or error
        if isinstance(cause, PDFPasswordIncorrect) or "password" in str(error).lower():
            raise Unreadable("encrypted_pdf", "the PDF needs a password", "pdf") from None
        raise Unreadable("corrupt_pdf", f"pdfminer cannot open it: {type(cause).__name__}: {cause}", "pdf") from None


def _pages(pdf: Any, limits: PdfLimits) -> Iterator[_Page]:
    """Each page read, then closed: its characters and layout objects are released before the next is parsed."""
    pages = pdf.pages
    if not pages:
        raise Unreadable("corrupt_pdf", "the PDF has no pages", "pdf")
    if len(pages) > limits.max_pages:
        raise Unreadable("too_large", f"{len(pages)} pages (limit {limits.max_pages})", "pdf")
    text_layer = _TextLayer(len(pages))
    for page in pages:
        try:
            text_layer.add(page, limits)
            yield _Page(float(page.height), _page_items(page))
        finally:
            page.close()
    text_layer.verdict(limits)


def _read_document(data: bytes, limits: PdfLimits) -> list[_Page]:
    with _open(data) as pdf:
        try:
            return list(_pages(pdf, limits))
        except Unreadable:
            raise
        except Exception as error:  # noqa: BLE001 - as in _open: a damaged page must quarantine, not crash
            raise Unreadable("corrupt_pdf", f"pdfminer cannot read it: {type(error).__name__}: {error}",
                             "pdf") from None


def read_pdf(data: bytes, limits: PdfLimits = PdfLimits()) -> Rendered:
    """The PDF's text in the pipe layout, or :class:`Unreadable`."""
    _install_meter()
    meter = _Inflation(limits)
    token = _INFLATION.set(meter)
    try:
        pages = _read_document(data, limits)
    except Unreadable as error:
        raise meter.unreadable() or error from None  # a breach first: it may be why pdfminer failed
    finally:
        _INFLATION.reset(token)
    if (breach := meter.unreadable()) is not None:  # pdfminer caught the breach and went on without that stream
        raise breach
    _drop_furniture(pages, limits)
    text = _write(pages)
    if not text.strip():
        raise Unreadable("empty", "the PDF holds no text", "pdf")
    return Rendered(text, "pdf")
