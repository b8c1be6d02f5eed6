"""Property-based tests: random consistent tables rendered in every layout parse back exactly — or, where a
layout destroyed the information, as ambiguous cells with candidates; never as a wrong number."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govreports.parser import parse_text
from tests.render import EXACT_LAYOUTS, LAYOUTS, render_report
from tests.strategies import consistent_truth

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cells(record: dict) -> dict:
    out = {}
    for c in record["active_disclosure"]:
        out[("active_disclosure", c["item"], c["metric"])] = c
    for c in record["applications"]:
        out[("applications", c["row"], c["applicant"])] = c
    for c in record["appeals"]:
        out[("appeals", c["proceeding"], c["outcome"])] = c
    return out


def _truth_cells(truth: dict) -> dict:
    return {(table, *key): value for table, values in truth.items() for key, value in values.items()}


@SETTINGS
@given(consistent_truth(), st.sampled_from(EXACT_LAYOUTS))
def test_exact_layouts_round_trip(case: tuple[str, dict], layout: str) -> None:
    template, truth = case
    record = parse_text(render_report(template, truth, layout))
    assert record["status"] == "parsed"
    assert record["metadata"]["template"] == template
    cells = _cells(record)
    expected = _truth_cells(truth)
    assert set(cells) == set(expected)
    for key, value in expected.items():
        assert not cells[key].get("ambiguous"), key
        assert abs(cells[key]["value"] - value) < 1e-9, (key, value, cells[key])
    assert not [f for f in record["findings"] if f["rule"] in ("R1", "R2", "R3", "R4", "R5")]


@SETTINGS
@given(consistent_truth(), st.sampled_from(sorted(set(LAYOUTS) - set(EXACT_LAYOUTS))))
def test_lossy_layouts_never_guess(case: tuple[str, dict], layout: str) -> None:
    template, truth = case
    record = parse_text(render_report(template, truth, layout))
    cells = _cells(record)
    expected = _truth_cells(truth)
    assert set(cells) == set(expected)
    flagged = {tuple(ref.split(":")) for f in record["findings"] if f["rule"] == "ambiguous_cells" for ref in f["cells"]}
    for key, value in expected.items():
        cell = cells[key]
        if cell.get("ambiguous"):
            assert key in flagged
            continue
        assert cell["value"] is not None and abs(cell["value"] - value) < 1e-9, (layout, key, value, cell)


@SETTINGS
@given(consistent_truth(max_value=9))
def test_flattened_single_digit_rows_split_exactly(case: tuple[str, dict]) -> None:
    """Run together, a row of n single-digit cells has exactly one split into n cells, so every table-三 row
    whose cells (total included) are all single digits is decided.  (Multi-digit totals can be genuinely
    ambiguous: 0|0|11|0|0|0|11 and 0|0|1|10|0|0|11 print the same digits.)"""
    template, truth = case
    cells = _cells(parse_text(render_report(template, truth, "flattened")))
    rows: dict[str, dict[str, int]] = {}
    for (row, applicant), value in truth["applications"].items():
        rows.setdefault(row, {})[applicant] = value
    for row, values in rows.items():
        if max(values.values()) < 10:
            for applicant, value in values.items():
                cell = cells[("applications", row, applicant)]
                assert not cell.get("ambiguous") and cell["value"] == value, (row, applicant)
