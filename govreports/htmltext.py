"""Web pages and script-embedded pages → plain text in the pipe layout the text parser reads.

Tables become one line per ``<tr>`` with cells separated by `` | `` (blank cells kept as empty cells), so the
same text parser reads a saved page as it reads a hand-copied report.  Entities are never resolved from
outside the document and the network is never touched.
"""

from __future__ import annotations

import json
import re

import lxml.html
from lxml import etree

_HTML_HINT = re.compile(r"<(?:html|body|table|div|p|td|tr|br)\b", re.IGNORECASE)
_JS_CONTENT = re.compile(r"""(?:let|var|const)\s+content\s*=\s*("(?:[^"\\]|\\.)*")""", re.DOTALL)
_BLOCK_TAGS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "section", "article", "tr", "table",
               "title", "dd", "dt"}
_SKIP_TAGS = {"script", "style", "noscript", "head", "select", "option", "button", "iframe"}


def looks_like_html(text: str) -> bool:
    if "<" not in text:
        return False
    return len(_HTML_HINT.findall(text[:200_000])) >= 3


def embedded_html(text: str) -> str | None:
    """The page held in a JavaScript ``content = "..."`` string, if the text is such a script."""
    if "content" not in text:
        return None
    match = _JS_CONTENT.search(text)
    if not match:
        return None
    literal = match.group(1).replace("\\'", "'")  # JS allows \' inside "..."; JSON does not
    try:
        value = json.loads(literal, strict=False)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) and looks_like_html(value) else None


def html_to_text(html: str) -> str:
    # The text is already decoded; tell libxml2 so, whatever charset a <meta> tag claims.
    parser = lxml.html.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, recover=True)
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", html)
    out: list[str] = []
    _walk(root, out)
    text = "".join(out)
    text = re.sub(r"[ \t\u00a0\u3000]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _cell_text(cell: etree._Element) -> str:
    parts: list[str] = []
    _walk(cell, parts)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


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
        if node.text and tag not in ("table", "tbody", "thead"):
            out.append(node.text)
        for child in node:
            _walk(child, out)
        if tag in _BLOCK_TAGS:
            out.append("\n")
    if node.tail and tag != "html":
        out.append(node.tail)


def to_plain_text(text: str) -> tuple[str, str]:
    """(plain text, format) for decoded input: ``html`` pages and script-held pages are flattened."""
    inner = embedded_html(text)
    if inner is not None:
        return html_to_text(inner), "html"
    if looks_like_html(text):
        return html_to_text(text), "html"
    return text, "text"
