"""DOCX reader: a Word (OOXML) report → the pipe layout, paragraphs and tables in document order.

Merged cells are written once, where they start, as the HTML reader writes rowspan/colspan cells: a
horizontally merged cell (``w:gridSpan``) is one cell, and the continuation cells of a vertical merge
(``w:vMerge`` without ``restart``, legacy ``w:hMerge``) are left out of their rows.  A cell's paragraphs become
one line of text.  A table with another table inside it is a layout frame, not a data table: its cells are
written as blocks of their own (see :func:`table_blocks`).

Text is read as Word shows it: inserted revisions in, deleted and moved-away ones out; field results in, field
codes out; content controls looked through (but not their placeholder text).  Text boxes and shapes are read
once each — the DrawingML choice of an ``mc:AlternateContent``, never its VML fallback copy — as blocks of
their own next to the paragraph that anchors them.  Page headers come before the body (see
:func:`header_blocks`); footers are left out.

Safety: the archive is checked before python-docx opens it — too many members, a total uncompressed size over
the limit or a member that inflates by an implausible ratio is a ``zip_bomb``; an XML part whose prolog holds a
DTD (or whose encoding OPC does not allow) is refused as ``corrupt_docx`` — no entity is ever expanded, and
python-docx's own parser resolves none either; whatever python-docx cannot open is ``corrupt_docx``.  What does
not belong here: reading the tables' meaning (``govreports.parser``).
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from lxml import etree

from govreports.readers.errors import Rendered, Unreadable
from govreports.readers.layout import cell_text, join_blocks, row_line

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
W_P, W_TBL, W_TR, W_TC, W_R, W_T = (f"{_W}{t}" for t in ("p", "tbl", "tr", "tc", "r", "t"))
W_SDT, W_SDT_CONTENT, W_CUSTOM_XML = f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"
W_TXBX, W_FLD_CHAR, W_SECT_PR = f"{_W}txbxContent", f"{_W}fldChar", f"{_W}sectPr"
MC_ALTERNATE, MC_CHOICE, MC_FALLBACK = f"{_MC}AlternateContent", f"{_MC}Choice", f"{_MC}Fallback"
_RUN_TEXT = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# Subtrees that Word does not show as text: deleted and moved-away revisions, the phonetic guide above ruby
# text, and property blocks (a w:tab under w:pPr is a tab stop, not a tab).
_HIDDEN = {f"{_W}{t}" for t in ("del", "moveFrom", "rt", "pPr", "rPr", "sdtPr", "sdtEndPr")}
_CONTAINERS = {W_SDT, W_CUSTOM_XML, f"{_W}ins", f"{_W}moveTo", f"{_W}smartTag", MC_ALTERNATE}
_OFF = ("false", "0", "off")
_FORMER_PROPERTIES = {f"{_W}sectPrChange", f"{_W}pPrChange"}


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


# ---------------------------------------------------------------------------------------------- DTD refusal
#
# A DTD can only stand in the prolog, before the root element, and the prolog may be as long as the part
# (comments and white space have no length limit), so the whole prolog is read — streamed in chunks, keeping
# only the few characters a delimiter split across two chunks needs; check_archive has already bounded how much
# a part can inflate to.  Reading stops at the first element start tag, or at anything else that cannot stand
# in a prolog: libxml2 (python-docx parses with recovery off) stops at that error, so no DTD after it is read.

_HEAD_BYTES = 4096  # holds a byte order mark and an XML declaration of up to _MAX_DECLARATION characters
_SCAN_CHUNK = 64 * 1024
_MAX_DECLARATION = 1024
_XML_SPACE = " \t\r\n"
_DECLARED_ENCODING = re.compile(r"""^<\?xml[ \t\r\n][^?]*?\bencoding[ \t\r\n]*=[ \t\r\n]*["']([^"']*)["']""")
# OPC (ECMA-376 part 2, M1.17): XML parts are UTF-8 or UTF-16 and declare no other encoding.  Holding parts to
# that also closes the encodings in which markup is not ASCII bytes (UTF-7, UCS-4, EBCDIC): a DTD written in
# them would not be seen by a byte-level scan.
_OPC_ENCODINGS = {"utf-8", "utf-16", "utf-16-le", "utf-16-be"}
_NOT_OPC_STARTS = (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\x00<", b"<\x00\x00\x00", b"\x00\x00<\x00",
                   b"\x00<\x00\x00", b"\x4c\x6f\xa7\x94")  # UCS-4 (any byte order), EBCDIC: XML 1.0 appendix F
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_CONTENT_TYPES = "[Content_Types].xml"


def _scan_codec(head: bytes) -> tuple[str, int] | None:
    """The codec that reads the part's markup as libxml2 will (chosen from its first bytes as XML 1.0 appendix F
    says) and the length of its byte order mark; None for encodings OPC does not allow."""
    if head.startswith(_NOT_OPC_STARTS):
        return None
    if head.startswith(codecs.BOM_UTF8):
        return "latin-1", 3
    if head.startswith((codecs.BOM_UTF16_BE, b"\x00<\x00?")):
        return "utf-16-be", 2 if head.startswith(codecs.BOM_UTF16_BE) else 0
    if head.startswith((codecs.BOM_UTF16_LE, b"<\x00?\x00")):
        return "utf-16-le", 2 if head.startswith(codecs.BOM_UTF16_LE) else 0
    # UTF-8 (and whatever else is ASCII-compatible): latin-1 maps byte to character one to one, so markup, which
    # is ASCII, is read at the same places without any decoding error.
    return "latin-1", 0


def _declaration_problem(head: str) -> str | None:
    if not re.match(r"<\?xml[ \t\r\n]", head):
        return None
    end = head.find("?>", 0, _MAX_DECLARATION)
    if end < 0:
        return f"has an XML declaration longer than {_MAX_DECLARATION} characters"
    declared = _DECLARED_ENCODING.match(head[:end])
    if declared is None:
        return None
    try:
        name = codecs.lookup(declared.group(1)).name
    except LookupError:
        name = declared.group(1)
    if name in _OPC_ENCODINGS:
        return None
    return f"declares the encoding {declared.group(1)!r}; OPC allows UTF-8 and UTF-16"


def _prolog_has_dtd(pieces: Iterable[str]) -> bool:
    """Whether a markup declaration (``<!DOCTYPE``, ``<!ENTITY``…) stands before the root element; ``pieces``
    is the part's text in consecutive pieces of any size."""
    pending, closer = "", ""  # closer: the "?>" or "-->" ending the processing instruction or comment we are in
    for piece in pieces:
        pending += piece
        while True:
            if closer:
                end = pending.find(closer)
                if end < 0:
                    pending = pending[len(pending) - len(closer) + 1:]  # keep what may begin a split closer
                    break
                pending, closer = pending[end + len(closer):], ""
            pending = pending.lstrip(_XML_SPACE)
            if "<!--".startswith(pending):  # "", "<", "<!", "<!-": undecided until more text comes
                break
            if pending.startswith("<?"):
                pending, closer = pending[2:], "?>"
            elif pending.startswith("<!--"):
                pending, closer = pending[4:], "-->"
            else:
                return pending.startswith("<!")  # anything else ends the prolog: the root element or an error
    return False


def _prolog_problem(chunks: Iterator[bytes]) -> str | None:
    """Why a part must be refused (a DTD in its prolog, an encoding OPC does not allow), or None."""
    head = next(chunks, b"")
    found = _scan_codec(head)
    if found is None:
        return "is encoded in UCS-4 or EBCDIC; OPC allows UTF-8 and UTF-16"
    codec, bom = found
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    text = decoder.decode(head[bom:])
    problem = _declaration_problem(text)
    if problem is not None:
        return problem
    if _prolog_has_dtd(chain([text], (decoder.decode(chunk) for chunk in chunks))):
        return "carries a DTD; Word parts never do"
    return None


def _member_chunks(member: Any) -> Iterator[bytes]:
    yield member.read(_HEAD_BYTES)
    while chunk := member.read(_SCAN_CHUNK):
        yield chunk


def _check_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        with archive.open(info) as member:
            problem = _prolog_problem(_member_chunks(member))
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as error:
        raise Unreadable("corrupt_docx", f"{info.filename}: {error}", "docx") from None
    if problem is not None:
        raise Unreadable("corrupt_docx", f"{info.filename} {problem}: refused", "docx")


def _content_types(archive: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    """(extension → content type, part name → content type) of ``[Content_Types].xml``, lower-cased as OPC
    compares them; empty when it is missing or unreadable (python-docx then refuses the file itself)."""
    try:
        with archive.open(_CONTENT_TYPES) as member:
            root = etree.parse(member, _SAFE_PARSER).getroot()
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError,
            etree.XMLSyntaxError):
        return {}, {}
    defaults, overrides = {}, {}
    for entry in root:
        name = etree.QName(entry).localname if isinstance(entry.tag, str) else ""
        if name == "Default":
            defaults[entry.get("Extension", "").lower()] = entry.get("ContentType", "")
        elif name == "Override":
            overrides[entry.get("PartName", "").lstrip("/").lower()] = entry.get("ContentType", "")
    return defaults, overrides


def _is_xml_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return not media.startswith("image/") and (media.endswith("+xml") or media.endswith("/xml"))


def _xml_parts(archive: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    """Every member an XML parser may read.  python-docx picks a part's class — and so whether it parses it — by
    content type, not by name: a main document named ``word/document.bin`` is parsed all the same.  Images are
    never parsed (an SVG picture may well carry a DOCTYPE)."""
    defaults, overrides = _content_types(archive)
    for info in archive.infolist():
        name = info.filename
        if name.endswith("/"):
            continue
        content_type = overrides.get(name.lower()) or defaults.get(name.rpartition(".")[2].lower(), "")
        if name.endswith((".xml", ".rels")) or _is_xml_type(content_type):
            yield info


def _refuse_dtds(archive: zipfile.ZipFile) -> None:
    content_types = [info for info in archive.infolist() if info.filename == _CONTENT_TYPES]
    for info in content_types:  # before _xml_parts parses it
        _check_part(archive, info)
    for info in _xml_parts(archive):
        if info.filename != _CONTENT_TYPES:
            _check_part(archive, info)


# ---------------------------------------------------------------------------------------------- text


def _on(flag: etree._Element | None) -> bool:
    return flag is not None and flag.get(f"{_W}val", "true").lower() not in _OFF


def _chosen(alternate: etree._Element) -> etree._Element | None:
    """The branch of an ``mc:AlternateContent`` a consumer reads: its first choice (the DrawingML shape), else
    the fallback (its VML copy) — never both, which would read every text box twice."""
    choice = alternate.find(MC_CHOICE)
    return choice if choice is not None else alternate.find(MC_FALLBACK)


def _content(container: etree._Element, *, placeholder: bool = False) -> etree._Element | None:
    """What a container shows: a content control's content (nothing while it shows its placeholder prompt,
    which is not the author's text, unless ``placeholder``), the chosen branch of alternate content, else the
    element itself."""
    if container.tag == MC_ALTERNATE:
        return _chosen(container)
    if container.tag != W_SDT:
        return container
    properties = container.find(f"{_W}sdtPr")
    if not placeholder and properties is not None and _on(properties.find(f"{_W}showingPlcHdr")):
        return None
    return container.find(W_SDT_CONTENT)


def _field_char(char: etree._Element, fields: list[bool]) -> None:
    """Track the fields open in a paragraph: each is False while in its code, True once in its result."""
    kind = char.get(f"{_W}fldCharType")
    if kind == "begin":
        fields.append(False)
    elif kind == "separate" and fields:
        fields[-1] = True
    elif kind == "end" and fields:
        fields.pop()


def _run_pieces(run: etree._Element, fields: list[bool]) -> Iterator[str | etree._Element]:
    for child in run:
        tag = child.tag
        if tag == W_T or tag in _RUN_TEXT:
            if all(fields):  # text between a field's begin and separator is its code (nested fields' too)
                yield (child.text or "") if tag == W_T else _RUN_TEXT[tag]
        elif tag == W_FLD_CHAR:
            _field_char(child, fields)
        elif tag not in _HIDDEN:  # drawings, VML pictures, objects, alternate content: they may hold text boxes
            yield from _pieces((child,), fields)


def _pieces(nodes: Iterable[etree._Element], fields: list[bool]) -> Iterator[str | etree._Element]:
    """The text (strings) and text boxes (``w:txbxContent`` elements) in ``nodes`` (a paragraph's children, say),
    in document order; ``fields`` holds the state of the fields open so far in the paragraph."""
    for node in nodes:
        tag = node.tag
        if tag == W_R:
            yield from _run_pieces(node, fields)
        elif tag == W_TXBX:
            yield node
        elif tag in _CONTAINERS:
            content = _content(node)
            if content is not None:
                yield from _pieces(content, fields)
        elif tag not in _HIDDEN:  # hyperlinks, simple fields (their runs are the result), shapes and their parts
            yield from _pieces(node, fields)


def paragraph_blocks(paragraph: etree._Element) -> Iterator[str]:
    """The paragraph's running text as one block, and each of its text boxes as blocks of their own.

    A box is drawn apart from the text flow, so its text is never glued into the sentence that anchors it; it
    comes before the paragraph when anchored ahead of the paragraph's first text (a title box anchored in the
    first line), after it otherwise."""
    text: list[str] = []
    before: list[etree._Element] = []
    after: list[etree._Element] = []
    has_text = False
    for piece in _pieces(paragraph, []):
        if isinstance(piece, str):
            text.append(piece)
            has_text = has_text or bool(piece.strip())
        else:
            (after if has_text else before).append(piece)
    for box in before:
        yield from blocks(box)
    yield "".join(text)
    for box in after:
        yield from blocks(box)


# One compiled query rather than finds: python-docx gives w:tcPr and its children Python element classes, and
# building those for every cell was the reader's hottest spot.
_MERGE_CONTINUES = etree.XPath(
    "boolean(w:tcPr/w:vMerge[not(@w:val) or @w:val='continue'] | w:tcPr/w:hMerge[not(@w:val) or @w:val='continue'])",
    namespaces={"w": _W[1:-1]})


def _merge_continues(tc: etree._Element) -> bool:
    return bool(_MERGE_CONTINUES(tc))


def _row_deleted(tr: etree._Element) -> bool:
    properties = tr.find(f"{_W}trPr")
    return properties is not None and properties.find(f"{_W}del") is not None


def _children(parent: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with ``tag``, looking through the containers (content controls, custom XML) Word wraps them in.
    A row or cell stays in place even in a control showing its placeholder: leaving it out would shift columns."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag in _CONTAINERS:
            content = _content(child, placeholder=True)
            if content is not None:
                yield from _children(content, tag)


def _rows(tbl: etree._Element) -> Iterator[list[etree._Element]]:
    """Each row's own cells: rows deleted as a tracked change and continuations of merged cells left out."""
    for tr in _children(tbl, W_TR):
        if not _row_deleted(tr):
            yield [tc for tc in _children(tr, W_TC) if not _merge_continues(tc)]


def table_blocks(tbl: etree._Element) -> Iterator[str]:
    """One layout line per row (merged cells written once) — or, for a table with another table inside it, the
    content of each of its cells in turn.

    Such an outer table frames the layout (a report put whole into a bordered cell, a table beside its
    caption); writing each of its cells on one line would glue paragraphs and the inner table's rows together,
    pipes and all, into one unreadable row."""
    if tbl.find(f".//{W_TBL}") is None:
        yield from (row_line(cell_text("\n".join(blocks(tc))) for tc in cells) for cells in _rows(tbl))
        return
    for cells in _rows(tbl):
        for tc in cells:
            yield from blocks(tc)


def blocks(container: etree._Element) -> Iterator[str]:
    """Paragraph texts and table rows of a body, header, cell, text box or content control, in document order."""
    for child in container:
        tag = child.tag
        if tag == W_P:
            yield from paragraph_blocks(child)
        elif tag == W_TBL:
            yield from table_blocks(child)
        elif tag in _CONTAINERS:
            content = _content(child)
            if content is not None:
                yield from blocks(content)


# ---------------------------------------------------------------------------------------------- headers
#
# Page headers are read, footers are not.  A Word report sometimes names itself or its agency only in the page
# header (the body starting straight at 一、总体情况), and the parser looks for the title and agency near the top
# of the text, so header text goes before the body — once: every section and page kind (first, even) may have
# its own header part, usually repeating the same line.  Only what Word shows is read: a first-page header only
# where the section has a distinct first page, even-page headers only where the settings turn them on (a
# leftover hidden header may name another year).  Footers hold page numbers ("— 1 —", "第1页 共5页") and at
# most an address, nothing the parser looks for; in front of the body they would only add noise.


def _visible_header_ids(sect_pr: etree._Element, even_pages: bool) -> Iterator[str]:
    references = {ref.get(f"{_W}type", "default"): ref.get(_REL_ID) for ref in sect_pr.findall(f"{_W}headerReference")}
    shown = ["first"] if _on(sect_pr.find(f"{_W}titlePg")) else []
    shown += ["default", "even"] if even_pages else ["default"]
    yield from (references[kind] for kind in shown if references.get(kind))


def header_blocks(document: Any) -> Iterator[str]:
    """The non-blank blocks of the page headers Word shows, each distinct block once, section by section."""
    body = document.element.body
    even_pages = bool(document.settings.odd_and_even_pages_header_footer)
    related = document.part.related_parts
    seen_parts: set[str] = set()
    seen_blocks: set[str] = set()
    for sect_pr in body.iter(W_SECT_PR):
        if any(ancestor.tag in _FORMER_PROPERTIES for ancestor in sect_pr.iterancestors()):
            continue  # the section as it was before a tracked change
        for rel_id in _visible_header_ids(sect_pr, even_pages):
            part = related.get(rel_id)
            if part is None or str(part.partname) in seen_parts or not hasattr(part, "element"):
                continue
            seen_parts.add(str(part.partname))
            for block in blocks(part.element):
                if block.strip() and block not in seen_blocks:
                    seen_blocks.add(block)
                    yield block


def read_docx(data: bytes, limits: ZipLimits = ZipLimits()) -> Rendered:
    """The document's page header text and body in the pipe layout, or :class:`Unreadable`."""
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
    return Rendered(join_blocks([*header_blocks(document), text]), "docx")
