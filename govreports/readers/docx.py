"""DOCX reader: a Word (OOXML) report → the pipe layout, paragraphs and tables in document order.

Merged cells are written once, where they start, as the HTML reader writes rowspan/colspan cells: a
horizontally merged cell (``w:gridSpan``) is one cell, and the continuation cells of a vertical merge
(``w:vMerge`` without ``restart``, legacy ``w:hMerge``) are left out of their rows.  A cell's paragraphs and
nested tables become one line of text.

Safety: the archive is checked before python-docx opens it — too many members, a total uncompressed size over
the limit or a member that inflates by an implausible ratio is a ``zip_bomb``; a Word part with a DTD is
refused (no entity is ever expanded; python-docx's own parser resolves none either); whatever python-docx
cannot open is ``corrupt_docx``.  What does not belong here: reading the tables' meaning
(``govreports.parser``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from govreports.readers.errors import Rendered, Unreadable
from govreports.readers.layout import cell_text, join_blocks, row_line

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
W_P, W_TBL, W_TR, W_TC, W_R, W_T = (f"{_W}{t}" for t in ("p", "tbl", "tr", "tc", "r", "t"))
W_SDT, W_SDT_CONTENT, W_CUSTOM_XML = f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"
_RUN_TEXT = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# Runs under these are not part of the paragraph's running text: text boxes (drawn apart from the flow; their
# Fallback copy would double them), deleted and moved-away revisions.
_NOT_IN_FLOW = {f"{_W}txbxContent", f"{_MC}Fallback", f"{_W}del", f"{_W}moveFrom"}
_CONTAINERS = {W_SDT, W_CUSTOM_XML, f"{_W}ins", f"{_W}moveTo", f"{_W}smartTag"}


@dataclass(frozen=True)
class ZipLimits:
    """What a Word file may inflate to before it is refused as a zip bomb."""

    max_members: int = 5_000
    max_total_uncompressed: int = 256 * 1024 * 1024
    max_ratio: float = 200.0
    ratio_floor: int = 1024 * 1024  # members smaller than this are never bombs, whatever their ratio


def check_archive(data: bytes, limits: ZipLimits = ZipLimits()) -> zipfile.ZipFile:
    """The opened archive, or :class:`Unreadable` (``corrupt_docx`` / ``zip_bomb``)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise Unreadable("corrupt_docx", f"not a readable ZIP archive: {error}", "docx") from None
    if len(infos) > limits.max_members:
        raise Unreadable("zip_bomb", f"{len(infos)} archive members (limit {limits.max_members})", "docx")
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed:
        raise Unreadable("zip_bomb", f"archive inflates to {total} bytes (limit {limits.max_total_uncompressed})",
                         "docx")
    for info in infos:
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise Unreadable("zip_bomb", f"{info.filename} inflates {info.file_size / max(info.compress_size, 1):.0f}"
                             f"-fold (limit {limits.max_ratio:.0f})", "docx")
    return archive


def _refuse_dtds(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(info) as member:
                head = member.read(4096)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as error:
            raise Unreadable("corrupt_docx", f"{info.filename}: {error}", "docx") from None
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise Unreadable("corrupt_docx", f"{info.filename} carries a DTD; Word parts never do: refused", "docx")


def _in_flow(run: etree._Element, paragraph: etree._Element) -> bool:
    node = run.getparent()
    while node is not None and node is not paragraph:
        if node.tag in _NOT_IN_FLOW:
            return False
        node = node.getparent()
    return True


def paragraph_text(paragraph: etree._Element) -> str:
    """The paragraph's running text: text, tabs and breaks of its runs, revisions and content controls included."""
    parts: list[str] = []
    for run in paragraph.iter(W_R):
        if run.getparent() is not paragraph and not _in_flow(run, paragraph):
            continue
        for child in run:
            tag = child.tag
            if tag == W_T:
                parts.append(child.text or "")
            elif tag in _RUN_TEXT:
                parts.append(_RUN_TEXT[tag])
    return "".join(parts)


def _merge_continues(tc: etree._Element) -> bool:
    properties = tc.find(f"{_W}tcPr")
    if properties is None:
        return False
    for tag in ("vMerge", "hMerge"):
        merge = properties.find(f"{_W}{tag}")
        if merge is not None and merge.get(f"{_W}val", "continue") == "continue":
            return True
    return False


def _children(parent: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with ``tag``, looking through the containers (content controls, custom XML) Word wraps them in."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag in _CONTAINERS:
            content = child.find(W_SDT_CONTENT) if child.tag == W_SDT else child
            if content is not None:
                yield from _children(content, tag)


def _row_cells(tr: etree._Element) -> Iterator[etree._Element]:
    return _children(tr, W_TC)


def _table_rows(tbl: etree._Element) -> Iterator[etree._Element]:
    return _children(tbl, W_TR)


def table_lines(tbl: etree._Element) -> list[str]:
    """One layout line per row; vertically continued cells left out, horizontally merged ones written once."""
    return [row_line(cell_text("\n".join(blocks(tc))) for tc in _row_cells(tr) if not _merge_continues(tc))
            for tr in _table_rows(tbl)]


def blocks(container: etree._Element) -> Iterator[str]:
    """Paragraph texts and table rows of a body, cell or content control, in document order."""
    for child in container:
        tag = child.tag
        if tag == W_P:
            yield paragraph_text(child)
        elif tag == W_TBL:
            yield from table_lines(child)
        elif tag in _CONTAINERS:
            content = child.find(W_SDT_CONTENT) if tag == W_SDT else child
            if content is not None:
                yield from blocks(content)


def read_docx(data: bytes, limits: ZipLimits = ZipLimits()) -> Rendered:
    """The document's body in the pipe layout, or :class:`Unreadable`."""
    import docx  # python-docx; imported here so that text and HTML parsing never pay for it
    from docx.opc.exceptions import PackageNotFoundError

    with check_archive(data, limits) as archive:
        _refuse_dtds(archive)
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError, OSError, EOFError,
            AttributeError, TypeError, NotImplementedError) as error:
        raise Unreadable("corrupt_docx", f"python-docx cannot open it: {type(error).__name__}: {error}",
                         "docx") from None
    text = join_blocks(blocks(body))
    if not text.strip():
        raise Unreadable("empty", "the Word document holds no text", "docx")
    return Rendered(text, "docx")
