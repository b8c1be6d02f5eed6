"""Fuzzing the normaliser and the text parser: no input makes them raise (bounded time in CI).

The parser's own guard turns unexpected exceptions into a quarantined record with reason
``parser_error``; these tests call the inner functions so that such an exception would fail them.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govreports.decode import Undecodable, decode
from govreports.normalise import normalise_cell
from govreports.parser import parse_text
from tests.render import render_report
from tests.strategies import consistent_truth

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CELLISH = st.text(alphabet=st.sampled_from(list("0123456789０１２３.,，-+/—增减元万亿次件 三十百零\t|")), max_size=12)
REPORT_CHARS = st.sampled_from(list("0123456789 |\t\n()（）、.第二十条项一二三四五六七八九本年新收申请数量总计行政复议诉讼结果维持纠正规章元万"))


@FUZZ
@given(st.one_of(st.text(max_size=20), CELLISH), st.sampled_from(["count", "signed_count", "amount"]),
       st.sampled_from([None, "元", "万元", "亿元"]))
def test_normaliser_never_raises(raw: str, kind: str, unit: str | None) -> None:
    cell = normalise_cell(raw, kind, unit)
    assert cell.raw == raw
    assert cell.value is None or isinstance(cell.value, int | float)


@FUZZ
@given(st.text(alphabet=REPORT_CHARS, max_size=600))
def test_parser_never_raises_on_table_like_noise(text: str) -> None:
    record = parse_text(text)
    assert record["status"] in ("parsed", "partial", "quarantined")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_truth(), st.sampled_from(["pipe", "lines", "collapsed", "flattened"]), st.data())
def test_parser_never_raises_on_damaged_reports(case: tuple[str, dict], layout: str, data: st.DataObject) -> None:
    """A real-looking report cut, spliced or sprinkled with noise still yields a record."""
    template, truth = case
    text = render_report(template, truth, layout)
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.text(alphabet=REPORT_CHARS, max_size=40))
    where = data.draw(st.integers(0, len(text)))
    damaged = data.draw(st.sampled_from([text[:cut], text[:where] + noise + text[where:], text[cut:] + text[:cut]]))
    record = parse_text(damaged)
    assert record["status"] in ("parsed", "partial", "quarantined")
    for cell in record["applications"]:
        assert cell["value"] is None or cell["value"] >= 0 or "-" in (cell["raw"] or "")


@FUZZ
@given(st.binary(max_size=400))
def test_decoder_raises_only_its_own_error(data: bytes) -> None:
    try:
        decoded = decode(data)
    except Undecodable as error:
        assert error.reason in ("empty", "binary", "undecodable", "too_large")
    else:
        assert isinstance(decoded.text, str)
