"""The HTML reader: its fast XSLT path writes exactly what the reference Python walk writes; charset
declarations; script-held pages; nested tables."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govreports.decode import Undecodable, declared_charset, decode
from govreports.htmltext import html_to_text as compat_html_to_text
from govreports.parser import parse_bytes, parse_text
from govreports.readers.html import embedded_html, html_to_text, html_to_text_walk, to_plain_text
from tests.gold import CORPUS
from tests.render import render_report
from tests.render_formats import document, render_html
from tests.strategies import consistent_truth
from tests.test_readers_roundtrip import cells

PAGES = sorted((CORPUS / "html").glob("*.html"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_fast_path_equals_reference_walk_on_saved_pages(page) -> None:
    text = page.read_text(encoding="utf-8")
    fast = html_to_text(text)
    assert fast == html_to_text_walk(text)
    assert fast == html_to_text(text, utf8=page.read_bytes())
    assert "申请人情况" in fast and " | " in fast


def test_threads_get_the_same_text() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [page.read_text(encoding="utf-8") for page in PAGES] * 4
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(html_to_text, texts)) == [html_to_text_walk(t) for t in texts]


def test_script_held_page_is_read_as_html() -> None:
    text = (CORPUS / "dev" / "shanghai_szfbgt_2019_js.txt").read_text(encoding="utf-8")
    inner = embedded_html(text)
    assert inner is not None and "<" in inner
    plain, fmt = to_plain_text(text)
    assert fmt == "html" and plain == html_to_text_walk(inner)


def test_script_held_page_is_found_among_other_uses_of_the_name() -> None:
    """Only a ``let``/``var``/``const`` declaration of ``content`` holding a string counts, wherever it is."""
    page = "<p>一、总体情况</p><div>x</div><table><tr><td>1</td></tr></table>"
    decoys = ('<meta name="description" content="a"><div class="content">b</div><script>var x = {content: 1}; '
              'mycontent = "no"; content = "<p>not declared</p><div>a</div><br>"; let content2 = "<p>";')
    assert embedded_html(f'{decoys}\nvar\u3000content = {json.dumps(page)};</script>') == page
    assert embedded_html(f"{decoys}</script>") is None
    assert embedded_html('const content = "<p>only text, one tag</p>";') is None  # not a page


def test_cell_text_runs_on_to_the_next_element_only() -> None:
    """A cell's text is its content plus the text right after it; text after other children of the row is not
    written, nor the text before the first cell."""
    html = "<table><tr> lead <td>a</td> b <span>x</span> c<td>d<br>e</td>f</tr></table>"
    assert html_to_text(html) == html_to_text_walk(html) == "a b | d ef |"


TAGS = ["p", "div", "span", "br", "td", "th", "tr", "table", "tbody", "thead", "script", "style", "b", "h2", "li",
        "select", "o:p", "font", "TD", "Tr", "P", "title", "textarea"]
TEXT = st.text(alphabet=st.sampled_from(list("ab 0 1\n\t\u00a0\u3000|我们&;<>\ufdd0")), max_size=8)


@st.composite
def html_fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "element", "element", "comment", "pi", "entity"]))
        if kind == "text":
            parts.append(draw(TEXT).replace("<", "&lt;").replace("&;", "&amp;"))
        elif kind == "comment":
            parts.append("<!-- x | y -->")
        elif kind == "pi":
            parts.append("<?php echo 1 ?>")
        elif kind == "entity":
            parts.append(draw(st.sampled_from(["&nbsp;", "&amp;", "&#x4e00;", "&unknown;", "&lt;"])))
        elif depth < 4:
            tag = draw(st.sampled_from(TAGS))
            attrs = draw(st.sampled_from(["", ' colspan="2"', ' rowspan="3" style="x"']))
            inner = draw(html_fragments(depth + 1))
            closed = draw(st.booleans()) or tag in ("script", "style")
            parts.append(f"<{tag}{attrs}>{inner}" + (f"</{tag}>" if closed else ""))
    return "".join(parts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_fragments(), st.sampled_from(["", "<html><head><title>t</title></head><body>", "<table><tr><td>"]))
def test_fast_path_equals_reference_walk_on_arbitrary_markup(fragment: str, prefix: str) -> None:
    html = prefix + fragment
    assert html_to_text(html) == html_to_text_walk(html)


def test_compatibility_module_exports_the_reader() -> None:
    assert compat_html_to_text is html_to_text


def test_nested_table_cell_is_one_cell() -> None:
    html = ("<html><body><table><tr><td>行政许可</td><td><table><tr><td>1</td><td>2</td></tr></table></td>"
            "<td> 3 </td></tr></table></body></html>")
    assert html_to_text(html) == "行政许可 | 1 | 2 | | 3 |"


# ---------------------------------------------------------------------------------------------- charsets


def test_declared_gb_charset_is_honoured_when_detection_alone_refuses() -> None:
    """Text with none of the common report characters: GB18030 detection alone calls it implausible."""
    body = "莆田市统计局局长讲话稿全文" * 20
    declared = f'<html><head><meta charset="GB2312"></head><body><p>{body}</p></body></html>'.encode("gbk")
    undeclared = f"<html><head></head><body><p>{body}</p></body></html>".encode("gbk")
    with pytest.raises(Undecodable):
        decode(undeclared)
    decoded = decode(declared)
    assert decoded.encoding == "gb18030" and body in decoded.text


@pytest.mark.parametrize(("head", "expected"), [
    (b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">', "gb18030"),
    (b"<meta charset='gb18030'>", "gb18030"),
    (b'<?xml version="1.0" encoding="GB2312"?>', "gb18030"),
    (b'<meta charset="iso-8859-1">', None),
    (b"<p>charset=gbk</p>", None),
])
def test_declared_charset(head: bytes, expected: str | None) -> None:
    assert declared_charset(b"<html><head>" + head + b"</head>") == expected


def test_utf8_page_that_declares_gbk_is_read_as_utf8() -> None:
    page = '<html><head><meta charset="gbk"></head><body><p>莆田市统计局</p><div>x</div></body></html>'
    assert decode(page.encode("utf-8")).encoding == "utf-8"


@settings(max_examples=5, deadline=None)
@given(consistent_truth())
def test_gbk_encoded_page_reads_like_its_text_form(case: tuple[str, dict]) -> None:
    template, truth = case
    page = render_html(document(template, truth, agency="莆田市统计局"), charset="gbk").encode("gbk")
    record = parse_bytes(page, "page.html")
    assert record["source"]["format"] == "html" and record["source"]["encoding"] == "gb18030"
    assert record["metadata"]["agency"] == "莆田市统计局"
    expected = parse_text(render_report(template, truth, "pipe", agency="莆田市统计局"))
    assert cells(record) == cells(expected)
