"""Cell normaliser: one printed table cell → a number, its unit and the findings that say how it was read.

What belongs here: reading a single cell's text.  What does not: deciding which column a cell belongs to
(``govreports.parser.placement``) or checking arithmetic across cells (``govreports.rules``).

Blank, "0", "-" and "/" stay distinct in ``raw``; everything that is not a literal reading of the digits
leaves a finding code in ``notes`` (``unit_converted``, ``unit_assumed``, ``value_with_text``, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Full-width ASCII (U+FF01–U+FF5E) → ASCII, ideographic space → space.  One char for one char, so offsets in
# the translated text are offsets in the original.
FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
FULLWIDTH[0x3000] = 0x20
FULLWIDTH[0x00A0] = 0x20  # no-break space (&nbsp;)
FULLWIDTH[0x2014] = ord("-")  # em dash used as a placeholder or minus sign
FULLWIDTH[0x2013] = ord("-")
FULLWIDTH[0x2212] = ord("-")

PLACEHOLDERS = frozenset({"-", "/", "--", "---", "\\", "—", "——", "－", "／", "–", "无", "空", "×", "*"})

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_ASCII_INT = re.compile(r"\d+", re.ASCII)
_NUMBER = re.compile(
    r"""^(?P<sign>[+\-]|增加?|减少?|新增|增|减)?\s*
        (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*
        (?P<unit>亿元|万元|千元|元|亿|万)?\s*
        (?P<rest>.*)$""",
    re.VERBOSE | re.ASCII,
)
_MULTIPLIER_WAN = {"元": Decimal("0.0001"), "千元": Decimal("0.1"), "万元": Decimal(1), "亿元": Decimal(10_000)}
_COUNT_MULTIPLIER = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


@dataclass(frozen=True, slots=True)
class Cell:
    """A normalised cell: ``value`` is None for blank, placeholder or unreadable cells."""

    raw: str
    value: int | float | None
    unit: str | None
    notes: tuple[str, ...] = ()


def chinese_numeral(text: str) -> int | None:
    """Read a Chinese numeral such as 三, 十二, 一百零五, 两千三百万; None when it is not one."""
    if not text or not _CN_NUMERAL.fullmatch(text):
        return None
    total, section, digit = 0, 0, None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char == "万":
            section = (section + (digit or 0)) or 1
            total += section * 10_000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
    return total + section + (digit or 0)


def _as_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


@lru_cache(maxsize=8192)
def normalise_cell(raw: str, kind: str = "count", declared_unit: str | None = None) -> Cell:
    """Normalise one printed cell.

    ``kind`` is the spec's value kind (``count``, ``signed_count``, ``amount``); ``declared_unit`` is the unit a
    column header states (e.g. 本年收费金额（单位：万元）) so that bare amounts are not "assumed".
    """
    if kind != "amount" and raw.isascii() and raw.isdigit():  # the common case, before any translation
        if len(raw) > 1 and raw[0] == "0":
            return Cell(raw, int(raw), None, ("leading_zeros",))
        return Cell(raw, int(raw), None)
    text = raw.translate(FULLWIDTH).strip()
    if not text:
        return Cell(raw, None, None)
    if kind != "amount" and _ASCII_INT.fullmatch(text):
        if len(text) > 1 and text[0] == "0":
            return Cell(raw, int(text), None, ("leading_zeros",))
        return Cell(raw, int(text), None)
    if text in PLACEHOLDERS or set(text) <= {"-", "/", "—", "\\"}:
        return Cell(raw, None, None, ("placeholder_cell",))
    compact = re.sub(r"\s+", "", text)
    match = _NUMBER.match(compact)
    if match is None:
        numeral = chinese_numeral(compact.rstrip("件个条项次宗人"))
        if numeral is not None:
            return Cell(raw, numeral, None, ("chinese_numeral",))
        return Cell(raw, None, None, ("unreadable_cell",))
    notes: list[str] = []
    try:
        number = Decimal(match["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex admits only decimal literals
        return Cell(raw, None, None, ("unreadable_cell",))
    if len(match["num"]) > 1 and match["num"][0] == "0" and match["num"][1].isdigit():
        notes.append("leading_zeros")
    if "," in match["num"]:
        notes.append("thousands_separator")
    sign = match["sign"]
    if sign:
        if sign.startswith("减") or sign == "-":
            number = -number
        if sign not in "+-":
            notes.append("value_with_text")
    unit_text = match["unit"]
    rest = match["rest"]
    if rest:
        notes.append("value_with_text")
    unit: str | None = None
    if kind == "amount":
        unit = "万元"
        if unit_text in _MULTIPLIER_WAN:
            if unit_text != "万元":
                notes.append("unit_converted")
            number *= _MULTIPLIER_WAN[unit_text]
        elif unit_text in _COUNT_MULTIPLIER:  # "1.2亿" with 元 dropped
            number = number * _COUNT_MULTIPLIER[unit_text] / 10_000
            notes.append("unit_converted")
        elif declared_unit in _MULTIPLIER_WAN:
            if declared_unit != "万元":
                notes.append("unit_converted")
            number *= _MULTIPLIER_WAN[declared_unit]
        else:
            notes.append("unit_assumed")
    elif unit_text:
        if unit_text in _COUNT_MULTIPLIER:
            number *= _COUNT_MULTIPLIER[unit_text]
        notes.append("value_with_text")
    return Cell(raw, _as_number(number), unit, tuple(dict.fromkeys(notes)))
