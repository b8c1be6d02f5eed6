"""Every real fixture parses to exactly what a careful reader gets (gold files written by reading them)."""

from __future__ import annotations

import pytest

from govreports.parser import parse_path
from tests.gold import CORPUS, compare, gold_files, load_gold

GOLD = gold_files()


def test_every_corpus_report_has_a_gold_file() -> None:
    reports = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.suffix in (".txt", ".html")}
    covered = {load_gold(g)["source"] for g in GOLD}
    assert reports == covered


@pytest.mark.parametrize("gold_path", GOLD, ids=[g.stem for g in GOLD])
def test_fixture_matches_gold(gold_path) -> None:
    gold = load_gold(gold_path)
    record = parse_path(CORPUS / gold["source"])
    assert compare(gold, record) == []


@pytest.mark.parametrize("gold_path", GOLD, ids=[g.stem for g in GOLD])
def test_undecidable_cells_come_with_candidates(gold_path) -> None:
    """Wherever the gold says the text cannot decide, an ambiguous_cells finding lists the readings."""
    gold = load_gold(gold_path)
    record = parse_path(CORPUS / gold["source"])
    flagged = {cell for f in record["findings"] if f["rule"] == "ambiguous_cells" for cell in f["cells"]}
    for f in record["findings"]:
        if f["rule"] == "ambiguous_cells":
            assert len(f["candidates"]) >= 2
    ambiguous = {f"active_disclosure:{c['item']}:{c['metric']}" for c in record["active_disclosure"] if c.get("ambiguous")}
    ambiguous |= {f"applications:{c['row']}:{c['applicant']}" for c in record["applications"] if c.get("ambiguous")}
    ambiguous |= {f"appeals:{c['proceeding']}:{c['outcome']}" for c in record["appeals"] if c.get("ambiguous")}
    assert ambiguous == flagged
