"""Report metadata read from the text: agency, report year, publication date, index number (索引号)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TITLE_LINE = re.compile(r"^\s*(?:标题|题目|名称)\s*[:：]\s*(.+)$", re.MULTILINE)
_REPORT_TITLE = re.compile(
    r"([\u4e00-\u9fff()（）]{2,60}?)\s*(\d{4})\s*年\s*度?\s*(?:的)?\s*(?:政府信息公开|政务公开)\s*(?:工作)?\s*(?:年度)?\s*(?:报告|年报)")
_TITLE_PREFIX = re.compile(r"^(?:.*?(?:向社会公布|向社会公开|现公布|特公布|予以公布|现将|公布|发布|编制|印发))")
_PUBLISHED = re.compile(r"(?:发布时间|发布日期|公开日期|发文日期|成文日期|(?<![统计截止])时间|日期)\s*[:：]?\s*(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
_ISO_LINE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$", re.MULTILINE)
_CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_INDEX = re.compile(r"索\s*引\s*号\s*[:：]?\s*([0-9A-Za-z][0-9A-Za-z\-/_.]{5,60})")
_INDEX_LINE = re.compile(r"^\s*([0-9A-Z]{8,}/\d{4}-\d+)\s*$", re.MULTILINE)
_PERIOD = re.compile(
    r"(?:统计|数据)[^。]{0,12}?(?:期限|时限|期间|时间|截止)[^。]{0,30}?(\d{4})\s*年\s*1\s*月\s*1\s*日"
    r"[^。\d]{0,12}?(?:(\d{4})\s*年\s*)?12\s*月\s*31\s*日")
_CONTACT = re.compile(r"请与\s*([\u4e00-\u9fff（）()]{4,40}?)\s*联系")
_ISSUER = re.compile(r"^\s*发布机构\s*[:：]\s*(\S+)\s*$", re.MULTILINE)


@dataclass
class Metadata:
    agency: str | None = None
    report_year: int | None = None
    published_on: str | None = None
    index_number: str | None = None
    title: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)


def _date(y: str, m: str, d: str) -> str | None:
    year, month, day = int(y), int(m), int(d)
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _clean_agency(name: str) -> str:
    name = _TITLE_PREFIX.sub("", name).strip("（）() ")
    if re.fullmatch(r"[\u4e00-\u9fff]{2,8}[省市县]", name):
        name += "人民政府"  # a report titled after a place is its government's
    return name


_TITLE_ALONE = re.compile(
    r"(?:^|[《\n])[ \t\u3000]*([\u4e00-\u9fff()（）]{2,60}?)\s*(\d{4})\s*年\s*度?\s*(?:的)?\s*(?:政府信息公开|政务公开)"
    r"\s*(?:工作)?\s*(?:年度)?\s*(?:报告|年报)[ \t\u3000]*(?=$|[》\n])", re.MULTILINE)


_YEAR_FIRST_TITLE = re.compile(
    r"(?:^|[《\n])[ \t\u3000]*(?P<year>\d{4})\s*年\s*度?\s*(?P<agency>[\u4e00-\u9fff()（）]{2,60}?)\s*(?:政府信息公开|政务公开)"
    r"\s*(?:工作)?\s*(?:年度)?\s*(?:报告|年报)", re.MULTILINE)


class _YearFirst:
    """Adapter so that a year-first title ("2019年上海市人民政府办公厅政府信息公开…") reads like the others."""

    def __init__(self, match: re.Match[str]) -> None:
        self._match = match

    def group(self, index: int) -> str:
        return {0: self._match.group(0), 1: self._match.group("agency"), 2: self._match.group("year")}[index]


_TITLE_KEYWORD = re.compile(r"(?:政府信息公开|政务公开)\s*(?:工作)?\s*(?:年度)?\s*(?:报告|年报)")
_DATE_WORDS = ("时间", "日期")


def _literal_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of every occurrence of ``words`` in order (``str.find`` outruns a regex alternation of literals)."""
    spans = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            spans.append((at, at + len(word)))
            at = text.find(word, at + len(word))
    return sorted(spans)


def _first_match(pattern: re.Pattern[str], text: str, anchors: list[tuple[int, int]], before: int,
                 after: int) -> re.Match[str] | None:
    """``pattern.search(text)`` for a pattern whose every match holds one of ``anchors`` (spans of a cheap,
    literal-led pattern, in order) and starts at most ``before`` characters ahead of it.

    Patterns that start with a character class or a line anchor are tried by the regex engine at every position
    of the text; here only windows around the anchors are searched.  A window's end is not the text's (``$``
    and look-aheads would see an end there), so every candidate is matched again on the whole text."""
    best: re.Match[str] | None = None
    for anchor_start, anchor_end in anchors:
        low = max(0, anchor_start - before)
        if best is not None and low > best.start():
            break
        window_end = min(len(text), anchor_end + after)
        position = low
        while (candidate := pattern.search(text, position, window_end)) is not None:
            confirmed = pattern.match(text, candidate.start())
            if confirmed is not None:
                if best is None or confirmed.start() < best.start():
                    best = confirmed
                break
            position = candidate.start() + 1
    return best


_TITLE_BEFORE, _TITLE_AFTER = 300, 40  # a title's agency, year and white space before its keyword; trailing space


def _title_in_text(text: str):
    """A report title standing alone on a line or inside 《》, else any title-like phrase."""
    head = text[:20_000]
    keywords = [m.span() for m in _TITLE_KEYWORD.finditer(head)]
    if not keywords:  # every title pattern holds the keyword phrase
        return None
    alone = _first_match(_TITLE_ALONE, head, keywords, _TITLE_BEFORE, _TITLE_AFTER)
    year_first = _first_match(_YEAR_FIRST_TITLE, head, keywords, _TITLE_BEFORE, _TITLE_AFTER)
    if year_first and (alone is None or year_first.start() < alone.start()):
        return _YearFirst(year_first)
    return alone or _first_match(_REPORT_TITLE, head, keywords, _TITLE_BEFORE, _TITLE_AFTER)


def extract_metadata(text: str, head_limit: int = 3000) -> Metadata:
    meta = Metadata()
    head = text[:head_limit]
    title_line = _TITLE_LINE.search(head) if any(word in head for word in ("标题", "题目", "名称")) else None
    title_match = None
    if title_line:
        meta.title = title_line.group(1).strip()
        title_match = _REPORT_TITLE.search(meta.title)
    if title_match is None:
        title_match = _title_in_text(text)
        if title_match and meta.title is None:
            meta.title = _clean_agency(re.sub(r"\s+", "", title_match.group(0).strip("《》\n \t")))
    title_year = int(title_match.group(2)) if title_match else None
    if title_match:
        meta.agency = _clean_agency(title_match.group(1)) or None
        if meta.agency and re.search(r"关于|通知|做好|印发|根据", meta.agency):
            meta.agency = None  # a cited document's title, not the reporting body
        meta.evidence["agency"] = "title"
    if not meta.agency:
        contact = _CONTACT.search(text)
        if contact:
            name = contact.group(1)
            name = re.sub(r"^(?:本机关|本单位|我局|我委)", "", name)
            name = re.sub(r"(?<=[局委厅署院所站部办处])(?:办公室|政务公开办公室|信息公开办公室|综合科|办公室政务公开科)$", "", name)
            meta.agency = name
            meta.evidence["agency"] = "contact line"
    if not meta.agency:
        issuer = _ISSUER.search(head)
        if issuer:
            meta.agency = issuer.group(1)
            meta.evidence["agency"] = "发布机构"
    if not meta.agency:
        meta.notes.append(("agency_uncertain", "no title, contact line or issuer names the agency"))

    period = _PERIOD.search(text) if "31" in text else None  # the period ends on 12月31日
    period_year = int(period.group(1)) if period and period.group(2) in (None, period.group(1)) else None
    meta.report_year = period_year or title_year
    meta.evidence["report_year"] = "statistics period" if period_year else ("title" if title_year else "")
    if meta.report_year is None:
        loose = re.search(r"(\d{4})\s*年\s*度?\s*政府信息公开", text[:20_000])
        if loose:
            meta.report_year = int(loose.group(1))
            meta.evidence["report_year"] = "text"
        else:
            meta.notes.append(("year_uncertain", "the report year could not be read from the text"))
    elif period_year and title_year and period_year != title_year:
        meta.notes.append(("year_uncertain", f"title says {title_year}, statistics period says {period_year}"))

    head_8k = text[:8000]
    published = _first_match(_PUBLISHED, head_8k, _literal_spans(head_8k, _DATE_WORDS), 2, 40)
    if published:
        meta.published_on = _date(*published.groups())
    if meta.published_on is None:
        iso = _ISO_LINE.search("\n".join(head.splitlines()[:12]))
        if iso:
            meta.published_on = _date(*iso.groups())
    if meta.published_on is None:
        tail = text[-400:]
        dates = list(_CN_DATE.finditer(tail))
        if dates:
            meta.published_on = _date(*dates[-1].groups())
    index = _INDEX.search(head) or _INDEX_LINE.search("\n".join(head.splitlines()[:5]))
    if index:
        meta.index_number = index.group(1)
    return meta
