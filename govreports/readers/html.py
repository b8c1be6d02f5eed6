"""HTML reader: saved web pages and script-embedded pages → the pipe layout the one text parser reads.

Tables become one line per ``<tr>`` with the row's own cells separated by `` | `` (blank cells kept as empty
cells, a rowspan/colspan cell written once, in the row where it starts), every other block element its own
line.  What belongs here: turning markup into that layout.  What does not: finding the report's tables or
reading their cells (``govreports.parser``), decoding bytes (``govreports.decode``).

Two implementations give byte-identical output: an XSLT transform run inside libxslt (the fast path, several
times faster than a Python tree walk on pages of 100–300 KB) and the Python walk it was derived from, kept as
the fallback for documents the transform cannot take.  Entities are never resolved from outside the document
and the network is never touched.
"""

from __future__ import annotations

import json
import re
import threading
from itertools import repeat

import lxml.html
from lxml import etree

from govreports.readers.layout import cell_text, finish

_HTML_HINT = re.compile(r"<(?:html|body|table|div|p|td|tr|br)\b", re.IGNORECASE)
_JS_CONTENT = re.compile(r"""(?:let|var|const)\s+content\s*=\s*("(?:[^"\\]++|\\.)*+")""", re.DOTALL)  # possessive: linear in the string's length
_JS_CONTENT_TAIL = re.compile(r"""\s*=\s*\"""")
_BLOCK_TAGS = ("p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section", "article", "tr", "table",
               "title", "dd", "dt")
_SKIP_TAGS = ("script", "style", "noscript", "head", "select", "option", "button", "iframe")
_TABLE_TEXT_SKIPPED = ("table", "tbody", "thead")
_WHITESPACE = re.compile(r"\s+")

# Cell boundaries in the transform's output: Unicode noncharacters, which no page legitimately contains (a
# page that does contain them is converted by the Python walk instead).
_OPEN, _CLOSE = "\ufdd0", "\ufdd1"
_INNERMOST_CELL = re.compile(f"{_OPEN}([^{_OPEN}{_CLOSE}]*){_CLOSE}")


def _stylesheet() -> str:
    # lxml's ``.text`` of table/tbody/thead (the text before their first child node) is not written; libxml2
    # merges adjacent character data, so that text is the first child node when it is a text node.  A cell's
    # children are applied directly (td/th have no template of their own) and its tail is read with a path
    # rather than a predicate on the axis: the cheaper forms of the same selection, once per cell.
    keep = "node()[not(self::text()) or position() &gt; 1]"
    blocks = "|".join(t for t in _BLOCK_TAGS if t not in ("tr", "table"))
    return f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/"><xsl:apply-templates select="*"/></xsl:template>
<xsl:template match="{blocks}"><xsl:text>&#10;</xsl:text><xsl:apply-templates/><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template match="table"><xsl:text>&#10;</xsl:text><xsl:apply-templates select="{keep}"/><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template match="tbody|thead"><xsl:apply-templates select="{keep}"/></xsl:template>
<xsl:template match="{"|".join(_SKIP_TAGS)}"/>
<xsl:template match="processing-instruction()"><xsl:value-of select="."/></xsl:template>
<xsl:template match="tr"><xsl:text>&#10;</xsl:text><xsl:for-each select="td|th"><xsl:if test="position() &gt; 1"><xsl:text> | </xsl:text></xsl:if><xsl:text>{_OPEN}</xsl:text><xsl:apply-templates/><xsl:apply-templates select="following-sibling::node()[1]/self::text()"/><xsl:text>{_CLOSE}</xsl:text></xsl:for-each><xsl:text> |&#10;</xsl:text></xsl:template>
</xsl:stylesheet>"""


_STYLESHEET = etree.XML(_stylesheet())
_PER_THREAD = threading.local()


def _tools() -> tuple[etree.HTMLParser, etree.XSLT]:
    """This thread's parser and transform (lxml parsers and XSLT objects are not shared between threads)."""
    tools = getattr(_PER_THREAD, "tools", None)
    if tools is None:
        # The text is already decoded; tell libxml2 so, whatever charset a <meta> tag claims.  Nothing looks
        # elements up by id, so libxml2 need not index them.
        parser = etree.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, recover=True,
                                  collect_ids=False)
        transform = etree.XSLT(_STYLESHEET, access_control=etree.XSLTAccessControl.DENY_ALL)
        tools = _PER_THREAD.tools = (parser, transform)
    return tools


def looks_like_html(text: str) -> bool:
    if "<" not in text:
        return False
    hints = _HTML_HINT.finditer(text, 0, 200_000)
    return next(hints, None) is not None and next(hints, None) is not None and next(hints, None) is not None


def embedded_html(text: str) -> str | None:
    """The page held in a JavaScript ``content = "..."`` string, if the text is such a script."""
    match = None
    # str.find skips through a 200 KB page about three times faster than the regex engine's literal search;
    # the declaration is only looked for where the name is followed by ``=`` and a string.
    at = text.find("content")
    while at >= 0:
        if _JS_CONTENT_TAIL.match(text, at + len("content")):
            start = _declaration_start(text, at)
            if start is not None:
                match = _JS_CONTENT.match(text, start)
                if match:
                    break
        at = text.find("content", at + 1)
    if not match:
        return None
    literal = match.group(1).replace("\\'", "'")  # JS allows \' inside "..."; JSON does not
    try:
        value = json.loads(literal, strict=False)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) and looks_like_html(value) else None


def _declaration_start(text: str, name_at: int) -> int | None:
    """Where ``let``/``var``/``const`` plus white space ends right before ``name_at``, if it does."""
    end = name_at
    while end > 0 and text[end - 1].isspace():  # re's \s and str.isspace agree
        end -= 1
    if end == name_at:
        return None
    for keyword in ("let", "var", "const"):
        if end >= len(keyword) and text.startswith(keyword, end - len(keyword), end):
            return end - len(keyword)
    return None


def _normalise_cell(match: re.Match[str]) -> str:
    return cell_text(match.group(1))


def _close_cells(text: str) -> str:
    """Each cell's text (between the transform's markers) on one line, as :func:`_cell_text` writes it."""
    pieces = text.split(_OPEN)
    if len(pieces) == 1:
        return text
    if _cells_alternate(pieces):
        # No table inside a cell: splitting at both markers leaves the cells at the odd positions.
        parts = _CLOSE.join(pieces).split(_CLOSE)
        parts[1::2] = map(cell_text, parts[1::2])
        return "".join(parts)
    while _OPEN in text:  # innermost cells first (a nested table's cells, then the cell holding it)
        text = _INNERMOST_CELL.sub(_normalise_cell, text)
    return text


def _cells_alternate(pieces: list[str]) -> bool:
    """Whether every piece after the first (the text split at the opening marker) holds exactly one closing
    marker, i.e. the markers alternate open, close, open, close."""
    counts = list(map(str.count, pieces, repeat(_CLOSE)))
    return counts[0] == 0 and counts.count(1) == len(counts) - 1


def html_to_text(html: str, *, utf8: bytes | None = None) -> str:
    """The page's text in the pipe layout (see the module docstring).

    ``utf8``: the same document as UTF-8 bytes, when the caller has them (saves encoding the text again)."""
    parser, transform = _tools()
    try:
        root = etree.fromstring(html.encode("utf-8") if utf8 is None else utf8, parser)
    except (etree.ParserError, ValueError):
        root = None
    if root is None:  # libxml2 found no document at all
        return re.sub(r"<[^>]+>", " ", html)
    if _OPEN not in html and _CLOSE not in html:
        try:
            text = str(transform(root))
        except etree.XSLTApplyError:  # e.g. nesting deeper than libxslt's template depth
            text = None
        if text is not None:
            return finish(_close_cells(text))
    return html_to_text_walk(html)


def html_to_text_walk(html: str) -> str:
    """The same conversion as :func:`html_to_text`, by a Python walk over the lxml tree (the reference)."""
    parser = lxml.html.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, recover=True)
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", html)
    out: list[str] = []
    _walk(root, out)
    return finish("".join(out))


def _cell_text(cell: etree._Element) -> str:
    parts: list[str] = []
    _walk(cell, parts)
    return _WHITESPACE.sub(" ", "".join(parts)).strip()


def _walk(node: etree._Element, out: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.lower()
    if tag in _SKIP_TAGS:
        if node.tail:
            out.append(node.tail)
        return
    if tag == "tr":
        cells = [child for child in node if isinstance(child.tag, str) and child.tag.lower() in ("td", "th")]
        out.append("\n" + " | ".join(_cell_text(c) for c in cells) + " |\n")
    else:
        if tag in _BLOCK_TAGS:
            out.append("\n")
        if node.text and tag not in _TABLE_TEXT_SKIPPED:
            out.append(node.text)
        for child in node:
            _walk(child, out)
        if tag in _BLOCK_TAGS:
            out.append("\n")
    if node.tail and tag != "html":
        out.append(node.tail)


def to_plain_text(text: str, *, utf8: bytes | None = None) -> tuple[str, str]:
    """(plain text, format) for decoded input: ``html`` pages and script-held pages are flattened.

    ``utf8``: the input's own bytes when they are exactly ``text`` in UTF-8 (no BOM)."""
    inner = embedded_html(text)
    if inner is not None:
        return html_to_text(inner), "html"
    if looks_like_html(text):
        return html_to_text(text, utf8=utf8), "html"
    return text, "text"
