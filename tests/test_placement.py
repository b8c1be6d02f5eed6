from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from govreports.parser.placement import _split_readings, place_row
from govreports.parser.tables import _r3_check, _r4_check

SEVEN = ["count"] * 7


def test_collapsed_run_is_expanded_uniquely_by_r3() -> None:
    placement = place_row(["3", "0", "3"], SEVEN, _r3_check, flattened=False)
    assert placement.decided
    assert placement.readings[0] == ("3", "0", "0", "0", "0", "0", "3")


def test_single_zero_is_a_row_of_zeros() -> None:
    placement = place_row(["0"], SEVEN, _r3_check, flattened=False)
    assert placement.readings == (("0",) * 7,)


def test_dropped_blanks_are_ambiguous_with_candidates() -> None:
    placement = place_row(["4", "4"], SEVEN, _r3_check, flattened=False)
    assert not placement.decided
    assert placement.blanks_inserted
    assert len(placement.readings) == 6
    assert placement.agreed()[6] == "4"
    assert placement.undetermined() == [0, 1, 2, 3, 4, 5]


def test_run_together_digits_split_by_arithmetic() -> None:
    placement = place_row(["21710000218"], SEVEN, _r3_check, flattened=True)
    assert placement.decided
    assert placement.readings[0] == ("217", "1", "0", "0", "0", "0", "218")


def test_run_together_table4_group_sums() -> None:
    placement = place_row(["21317000001324019"], ["count"] * 15, _r4_check, flattened=True)
    assert placement.decided
    assert placement.readings[0] == ("2", "1", "3", "1", "7", "0", "0", "0", "0", "0", "13", "2", "4", "0", "19")


def test_table2_without_rule_is_ambiguous_when_readings_differ() -> None:
    placement = place_row(["5", "3"], ["count"] * 3, None, flattened=False)
    assert {r for r in placement.readings} == {("5", "5", "3"), ("5", "3", "3")}
    assert placement.undetermined() == [1]


def test_sign_marks_the_signed_column_in_flattened_rows() -> None:
    placement = place_row(["35", "-15"], ["count", "signed_count"], None, flattened=True)
    assert placement.readings == (("35", "-15"),)


def test_row_violating_its_rule_is_not_forced() -> None:
    # 9 + 0 ≠ 5 in every reading: no reading passes R3, so candidates are offered unfiltered.
    placement = place_row(["9", "0", "5"], SEVEN, _r3_check, flattened=False)
    assert not placement.rule_checked
    assert len(placement.readings) > 1
    assert not placement.decided


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=12, max_size=12), st.integers(4, 7), st.booleans(), st.booleans())
def test_the_walk_cut_by_the_sum_rule_keeps_exactly_the_readings_that_satisfy_it(
        parts: list[int], pieces: int, allow_blanks: bool, consistent: bool) -> None:
    cells = []
    for group in range(3):  # table 四's row: three proceedings of four outcomes and their total
        outcomes = parts[4 * group: 4 * group + 4]
        cells += [*outcomes, sum(outcomes) + (0 if consistent else 1)]
    cuts = sorted({15 * i // pieces for i in range(1, pieces)})  # chunks of whole cells run together
    chunks = ["".join(map(str, cells[a:b])) for a, b in zip([0, *cuts], [*cuts, 15], strict=True)]
    kinds = ["count"] * 15
    unpruned: list = []
    complete = _split_readings(chunks, kinds, allow_blanks, lambda r: unpruned.append(r) or len(unpruned) < 2_000)
    assume(complete and len(unpruned) < 2_000)
    pruned: list = []
    assert _split_readings(chunks, kinds, allow_blanks, lambda r: pruned.append(r) or True, _r4_check)
    assert pruned == [r for r in unpruned if _r4_check(r)]
    if consistent and not allow_blanks:
        assert tuple(map(str, cells)) in pruned


def test_a_row_whose_readings_cannot_all_be_walked_is_undecided_not_slow() -> None:
    """Forty digits run together over fifteen columns: far more splits than the walk may visit."""
    digits = "1234567891" * 4
    placement = place_row([digits], ["count"] * 15, _r4_check, flattened=True)
    assert placement.truncated and not placement.decided
