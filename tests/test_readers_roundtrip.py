"""Round trips: a report drawn as the national template draws it, as an HTML page, a Word file and a PDF, reads
back to exactly the cells of its text form — for real reports (their gold truths and narrative) and for
generated consistent reports."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govreports.parser import parse_bytes, parse_path, parse_text
from govreports.readers import read_bytes
from tests.gold import CORPUS, GOLD_DIR, compare, load_gold
from tests.render import render_report
from tests.render_formats import (
    document,
    narrative_from,
    render_docx,
    render_html,
    render_pdf,
    render_text,
    truth_from_gold,
)
from tests.strategies import consistent_truth

REAL = ["seeds__000_5c245e0f5975cf67", "seeds__001_2635f51a17d978ae", "seeds__003_d44e2812b3c67d69",
        "seeds__004_0669d706a953c37f", "dev__putian_tjj_2020", "dev__putian_yjglj_2021", "dev__pingtan_gaj_2022"]
RENDERERS = {
    "html": lambda blocks: render_html(blocks).encode("utf-8"),
    "docx": render_docx,
    "pdf": render_pdf,
}


def cells(record: dict[str, Any]) -> dict[tuple[str, str, str], tuple[Any, Any, Any]]:
    out = {}
    for table, key, column in (("active_disclosure", "item", "metric"), ("applications", "row", "applicant"),
                               ("appeals", "proceeding", "outcome")):
        for cell in record[table]:
            out[(table, cell[key], cell[column])] = (cell["value"], cell["raw"], cell.get("ambiguous", False))
    return out


def rules_fired(record: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(f["rule"], tuple(f["cells"])) for f in record["findings"] if f["rule"] in ("R1", "R2", "R3", "R4", "R5")}


def assert_same_record(record: dict[str, Any], text_record: dict[str, Any], fmt: str) -> None:
    assert record["source"]["format"] == fmt
    assert record["status"] == text_record["status"] == "parsed", record.get("message")
    assert cells(record) == cells(text_record)
    assert rules_fired(record) == rules_fired(text_record)
    for key in ("agency", "report_year", "template"):
        assert record["metadata"][key] == text_record["metadata"][key]


def _real_case(name: str) -> tuple[dict, list]:
    gold = load_gold(GOLD_DIR / f"{name}.json")
    template, truth = truth_from_gold(gold)
    narrative = narrative_from(parse_path(CORPUS / gold["source"]))
    meta = gold["metadata"]
    return gold, document(template, truth, agency=meta["agency"], year=meta["report_year"], narrative=narrative)


@pytest.fixture(scope="module", params=REAL)
def real_case(request: pytest.FixtureRequest) -> tuple[str, dict, list, dict]:
    gold, blocks = _real_case(request.param)
    return request.param, gold, blocks, parse_text(render_text(blocks))


def test_real_reports_text_form_matches_gold(real_case: tuple[str, dict, list, dict]) -> None:
    """The text form itself reads to the gold (so the comparisons below compare the right thing)."""
    _, gold, _, text_record = real_case
    meta = gold["metadata"]
    reduced = {**gold, "metadata": {k: meta[k] for k in ("agency", "report_year", "template")}}
    assert compare(reduced, text_record) == []


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_real_reports_round_trip(real_case: tuple[str, dict, list, dict], fmt: str) -> None:
    _, _, blocks, text_record = real_case
    record = parse_bytes(RENDERERS[fmt](blocks), f"report.{fmt}")
    assert_same_record(record, text_record, fmt)


@settings(deadline=None, max_examples=20)
@given(consistent_truth())
def test_generated_text_form_is_the_render_py_pipe_layout(case: tuple[str, dict]) -> None:
    """The helper's text form and tests/render.py's pipe layout are the same report."""
    template, truth = case
    blocks = document(template, truth)
    assert cells(parse_text(render_text(blocks))) == cells(parse_text(render_report(template, truth, "pipe")))


ROUND_TRIP = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(ROUND_TRIP, max_examples=40)
@given(consistent_truth(max_value=100_000), st.sampled_from(["2019", "2021"]))
def test_generated_reports_round_trip_html(case: tuple[str, dict], header_style: str) -> None:
    template, truth = case
    blocks = document(template, truth, header_style=header_style)
    text_record = parse_text(render_report(template, truth, "pipe"))
    record = parse_bytes(RENDERERS["html"](blocks), "page.html")
    assert_same_record(record, text_record, "html")


@settings(ROUND_TRIP, max_examples=30)
@given(consistent_truth(max_value=100_000), st.sampled_from(["2019", "2021"]))
def test_generated_reports_round_trip_docx(case: tuple[str, dict], header_style: str) -> None:
    template, truth = case
    blocks = document(template, truth, header_style=header_style)
    record = parse_bytes(render_docx(blocks), "report.docx")
    assert_same_record(record, parse_text(render_report(template, truth, "pipe")), "docx")


@settings(ROUND_TRIP, max_examples=6)
@given(consistent_truth(max_value=100_000), st.sampled_from([None, 0, 1, 2]))
def test_generated_reports_round_trip_pdf(case: tuple[str, dict], break_table: int | None) -> None:
    template, truth = case
    blocks = document(template, truth)
    record = parse_bytes(render_pdf(blocks, break_table=break_table), "report.pdf")
    assert_same_record(record, parse_text(render_report(template, truth, "pipe")), "pdf")


@settings(ROUND_TRIP, max_examples=4)
@given(consistent_truth(), st.sampled_from(["2019", "2021"]))
def test_all_readers_write_the_same_table_rows(case: tuple[str, dict], header_style: str) -> None:
    """Merged cells are written once, where they start, by every reader: the table lines are identical."""
    template, truth = case
    blocks = document(template, truth, header_style=header_style)

    def table_lines(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.endswith(" |")]

    expected = table_lines(render_text(blocks))
    for fmt, render in RENDERERS.items():
        assert table_lines(read_bytes(render(blocks)).text) == expected, fmt
