"""The six narrative sections, found by their headings (wording and numbering vary; matched loosely)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from govreports.spec import Section, load_spec

_NUMERALS = "一二三四五六"
_CHROME_WORDS = re.compile(r"关于本站|网站地图|ICP备|网站标识码|版权所有|主办单位|关闭窗口|【打印】|扫一扫在手机打开")


@dataclass
class FoundSection:
    number: int
    title: str
    start: int
    end: int
    text: str


@lru_cache(maxsize=16)
def _heading_patterns(section: Section) -> tuple[re.Pattern[str], re.Pattern[str]]:
    labels = sorted({section.zh, *section.variants}, key=len, reverse=True)
    alternatives = "|".join(re.escape(label) for label in labels)
    numeral = _NUMERALS[section.number - 1]
    numbered = re.compile(
        rf"{numeral}\s*[、.．]\s*(?:政府信息公开(?:工作)?|因政府信息公开申请)?(?:{alternatives})[^\n。]{{0,30}}?(?=\n|$|[\u4e00-\u9fff\d(（])"
    )
    bare = re.compile(rf"(?m)^\s*(?:{alternatives})[^\n。]{{0,20}}$")
    return numbered, bare


def _chrome_start(body: str) -> int | None:
    """Offset of the line break before the first line (not the first) holding web-site chrome, if any."""
    at = 0
    while (word := _CHROME_WORDS.search(body, at)) is not None:
        line_break = body.rfind("\n", 0, word.start())
        if line_break >= 0:
            return line_break
        at = body.find("\n", word.end())
        if at < 0:
            return None
    return None


def extract_sections(text: str) -> list[FoundSection]:
    spec = load_spec()
    found: list[tuple[Section, int, int]] = []
    cursor = 0
    for section in spec.sections:
        numbered, bare = _heading_patterns(section)
        match = numbered.search(text, cursor) or bare.search(text, cursor)
        if match is None:
            continue
        found.append((section, match.start(), match.end()))
        cursor = match.end()
    out: list[FoundSection] = []
    for index, (section, start, end) in enumerate(found):
        stop = found[index + 1][1] if index + 1 < len(found) else len(text)
        body = text[end:stop]
        if index + 1 == len(found):
            chrome = _chrome_start(body)
            if chrome is not None:
                body = body[:chrome]
        title = text[start:end].strip()
        out.append(FoundSection(section.number, title, start, stop, body.strip()))
    return out
