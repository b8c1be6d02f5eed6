from __future__ import annotations

import pytest

from govreports.normalise import chinese_numeral, normalise_cell


@pytest.mark.parametrize(
    ("raw", "kind", "value", "unit", "notes"),
    [
        ("0", "count", 0, None, ()),
        ("00", "count", 0, None, ("leading_zeros",)),
        ("１２３", "count", 123, None, ()),
        ("1,234", "count", 1234, None, ("thousands_separator",)),
        ("1，234", "count", 1234, None, ("thousands_separator",)),
        ("21次", "count", 21, None, ("value_with_text",)),
        ("2,764.2万宗", "count", 27642000, None, ("thousands_separator", "value_with_text")),
        ("增1", "signed_count", 1, None, ("value_with_text",)),
        ("减3", "signed_count", -3, None, ("value_with_text",)),
        ("+1036", "signed_count", 1036, None, ()),
        ("-8", "signed_count", -8, None, ()),
        ("三", "count", 3, None, ("chinese_numeral",)),
        ("十二", "count", 12, None, ("chinese_numeral",)),
        ("一百零五", "count", 105, None, ("chinese_numeral",)),
        ("127014元", "amount", 12.7014, "万元", ("unit_converted",)),
        ("12.7万元", "amount", 12.7, "万元", ()),
        ("1.2亿元", "amount", 12000, "万元", ("unit_converted",)),
        ("258.5亿元", "amount", 2585000, "万元", ("unit_converted",)),
        ("5", "amount", 5, "万元", ("unit_assumed",)),
    ],
)
def test_messy_forms(raw: str, kind: str, value: float, unit: str | None, notes: tuple[str, ...]) -> None:
    cell = normalise_cell(raw, kind)
    assert cell.value == pytest.approx(value)
    assert cell.unit == unit
    assert cell.notes == notes
    assert cell.raw == raw


def test_blank_zero_dash_and_slash_stay_distinct() -> None:
    blank, zero, dash, slash = (normalise_cell(r) for r in ("", "0", "-", "/"))
    assert (blank.value, blank.notes) == (None, ())
    assert (zero.value, zero.notes) == (0, ())
    assert (dash.value, dash.notes, dash.raw) == (None, ("placeholder_cell",), "-")
    assert (slash.value, slash.notes, slash.raw) == (None, ("placeholder_cell",), "/")


def test_declared_unit_in_header_is_not_assumed() -> None:
    assert normalise_cell("380", "amount", declared_unit="元").value == pytest.approx(0.038)
    assert normalise_cell("3.5", "amount", declared_unit="万元").notes == ()


def test_unreadable_text_keeps_raw() -> None:
    cell = normalise_cell("见附件", "count")
    assert cell.value is None and cell.raw == "见附件" and cell.notes == ("unreadable_cell",)


@pytest.mark.parametrize(("text", "value"), [("零", 0), ("十", 10), ("二十一", 21), ("两千三百万", 23_000_000)])
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_numeral(text) == value
