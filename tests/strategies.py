"""Hypothesis strategies: random reports whose arithmetic is consistent (R1–R4 hold)."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.render import APPLICANTS, OUTCOMES, PROCEEDINGS, SPEC

_NOT_OUTCOMES = {"new_received", "carried_over", "total_processed", "carried_forward"}


@st.composite
def consistent_truth(draw: st.DrawFn, template: str | None = None, max_value: int = 300) -> tuple[str, dict]:
    template = template or draw(st.sampled_from(["2019", "2021"]))
    small = st.integers(0, max_value)
    sparse = st.one_of(st.just(0), st.just(0), st.integers(0, max_value))
    active: dict = {}
    for block in SPEC.blocks(template):
        for item in block.items:
            for metric in block.metrics:
                kind = SPEC.metrics[metric].kind
                if kind == "signed_count":
                    active[(item, metric)] = draw(st.integers(-max_value, max_value))
                elif kind == "amount":
                    active[(item, metric)] = draw(st.integers(0, 10**6)) / 100
                else:
                    active[(item, metric)] = draw(small)
    rows = [r.code for r in SPEC.rows_for(template)]
    outcome_rows = [r for r in rows if r not in _NOT_OUTCOMES]
    apps: dict = {}
    parts = APPLICANTS[:-1]
    for row in outcome_rows:
        for applicant in parts:
            apps[(row, applicant)] = draw(sparse)
    for applicant in parts:
        apps[("total_processed", applicant)] = sum(apps[(r, applicant)] for r in outcome_rows)
        forward = draw(sparse)
        apps[("carried_forward", applicant)] = forward
        total_in = apps[("total_processed", applicant)] + forward
        carried = draw(st.integers(0, total_in))
        apps[("carried_over", applicant)] = carried
        apps[("new_received", applicant)] = total_in - carried
    for row in rows:
        apps[(row, "total")] = sum(apps[(row, a)] for a in parts)
    appeals: dict = {}
    for proceeding in PROCEEDINGS:
        for outcome in OUTCOMES[:-1]:
            appeals[(proceeding, outcome)] = draw(sparse)
        appeals[(proceeding, "total")] = sum(appeals[(proceeding, o)] for o in OUTCOMES[:-1])
    return template, {"active_disclosure": active, "applications": apps, "appeals": appeals}
