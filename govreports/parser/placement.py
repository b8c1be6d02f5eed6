"""Placing a row's printed numbers into the template's columns.

Text copies lose cell boundaries in three ways: runs of identical neighbouring cells collapse into one
(`3 0 3` for 3|0|0|0|0|0|3), blank cells vanish, and in flattened copies the digits of neighbouring cells run
together (`21710000218`).  This module enumerates every reading of the printed chunks that rebuilds the row,
keeps those that satisfy the row's own rule (R3 for table 三, R4 for table 四), and reports either the one
reading or all candidates — it never picks among several.

Readings are tried in two tiers: first those that need no cell the text does not show (every cell comes
from a printed chunk), then, only if none of those satisfies the rule, readings with blank cells inserted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_CANDIDATES = 64

Reading = tuple[str | None, ...]  # raw text per column; None = blank cell not shown in the text

_PIECE_BY_KIND = {
    "count": re.compile(r"(?:0|[1-9]\d*)(?:[次件个条项宗])?"),
    "signed_count": re.compile(r"(?:[+\-]|增|减)?(?:0|[1-9]\d*)(?:[次件个条项宗])?"),
    "amount": re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?(?:万元|亿元|元)?"),
}


@dataclass(frozen=True)
class Placement:
    """The outcome for one row: ``readings`` holds every reading that survived (one when decided)."""

    readings: tuple[Reading, ...]
    literal: bool  # the text printed exactly one chunk per column
    rule_checked: bool  # readings were filtered by the row rule
    blanks_inserted: bool
    truncated: bool = False

    @property
    def decided(self) -> bool:
        return len(self.readings) == 1

    def agreed(self) -> Reading:
        """Per column: the raw value every reading agrees on, else None (undetermined)."""
        first = self.readings[0]
        return tuple(v if all(r[i] == v for r in self.readings) else None for i, v in enumerate(first))

    def undetermined(self) -> list[int]:
        first = self.readings[0]
        return [i for i, v in enumerate(first) if any(r[i] != v for r in self.readings)]


Check = Callable[[Reading], bool]


def _run_readings(chunks: Sequence[str], ncols: int, allow_blanks: bool) -> list[Reading]:
    """Token layouts: each chunk stands for a run of ≥1 equal cells, or (tier 2) for one cell among blanks."""
    out: list[Reading] = []
    m = len(chunks)

    def runs(i: int, cells: list[str | None]) -> None:
        if len(out) > MAX_CANDIDATES * 8:
            return
        remaining_chunks = m - i
        if remaining_chunks == 0:
            if len(cells) == ncols:
                out.append(tuple(cells))
            return
        free = ncols - len(cells) - (remaining_chunks - 1)
        for k in range(1, free + 1):
            runs(i + 1, cells + [chunks[i]] * k)

    def blanks(i: int, cells: list[str | None]) -> None:
        if len(out) > MAX_CANDIDATES * 8:
            return
        if i == m:
            out.append(tuple(cells + [None] * (ncols - len(cells))))
            return
        free = ncols - len(cells) - (m - i)
        for gap in range(0, free + 1):
            blanks(i + 1, cells + [None] * gap + [chunks[i]])

    if m == 0:
        return [tuple([None] * ncols)]
    if m > ncols:
        return []
    (blanks if allow_blanks else runs)(0, [])
    return out


def _split_readings(chunks: Sequence[str], kinds: Sequence[str], allow_blanks: bool) -> list[Reading]:
    """Flattened layouts: each chunk is the concatenation of one or more whole cells (no leading zeros)."""
    ncols = len(kinds)
    out: list[Reading] = []

    def walk(ci: int, offset: int, col: int, cells: list[str | None]) -> None:
        if len(out) > MAX_CANDIDATES * 8:
            return
        if ci == len(chunks):
            if col == ncols:
                out.append(tuple(cells))
            elif allow_blanks:
                out.append(tuple(cells + [None] * (ncols - col)))
            return
        if col == ncols:
            return
        chunk = chunks[ci]
        if allow_blanks and offset == 0:
            walk(ci, offset, col + 1, cells + [None])
        pattern = _PIECE_BY_KIND.get(kinds[col], _PIECE_BY_KIND["count"])
        for end in range(offset + 1, len(chunk) + 1):
            piece = chunk[offset:end]
            if not pattern.fullmatch(piece):
                continue
            if end == len(chunk):
                walk(ci + 1, 0, col + 1, cells + [piece])
            else:
                nxt = chunk[end]
                if nxt.isdigit() or nxt in "+-增减":
                    walk(ci, end, col + 1, cells + [piece])

    walk(0, 0, 0, [])
    # In tier 2 the walk may also emit readings whose blanks merely pad the end; keep them unique.
    return list(dict.fromkeys(out))


def place_row(
    chunks: Sequence[str],
    kinds: Sequence[str],
    check: Check | None,
    *,
    flattened: bool,
) -> Placement:
    """All readings of ``chunks`` as a row of ``len(kinds)`` cells that satisfy ``check``."""
    ncols = len(kinds)
    if not chunks:
        return Placement((tuple([None] * ncols),), literal=True, rule_checked=False, blanks_inserted=False)
    if len(chunks) == ncols:
        return Placement((tuple(chunks),), literal=True, rule_checked=False, blanks_inserted=False)
    for allow_blanks in (False, True):
        if flattened:
            readings = _split_readings(chunks, kinds, allow_blanks)
        else:
            readings = _run_readings(chunks, ncols, allow_blanks)
        if check is not None:
            kept = [r for r in readings if check(r)]
        else:
            kept = readings
        if kept:
            truncated = len(kept) > MAX_CANDIDATES
            return Placement(tuple(kept[:MAX_CANDIDATES]), False, check is not None, allow_blanks, truncated)
    # Nothing satisfies the rule: the report's arithmetic is broken here. Offer the readings that need no
    # blank cell, unfiltered, so that the row is reported ambiguous rather than silently forced.
    readings = (_split_readings if flattened else _run_readings)(
        chunks, kinds if flattened else ncols, False  # type: ignore[arg-type]
    )
    if not readings:
        return Placement((), False, False, False)
    return Placement(tuple(readings[:MAX_CANDIDATES]), False, False, False, len(readings) > MAX_CANDIDATES)
