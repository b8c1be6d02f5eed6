"""Placing a row's printed numbers into the template's columns.

Text copies lose cell boundaries in three ways: runs of identical neighbouring cells collapse into one
(`3 0 3` for 3|0|0|0|0|0|3), blank cells vanish, and in flattened copies the digits of neighbouring cells run
together (`21710000218`).  This module enumerates every reading of the printed chunks that rebuilds the row,
keeps those that satisfy the row's own rule (R3 for table 三, R4 for table 四), and reports either the one
reading or all candidates — it never picks among several.

Readings are tried in two tiers: first those that need no cell the text does not show (every cell comes
from a printed chunk), then, only if none of those satisfies the rule, readings with blank cells inserted.
Enumeration has a budget; a row whose readings could not all be enumerated is never reported as decided.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

MAX_CANDIDATES = 64
ENUMERATION_BUDGET = 200_000

Reading = tuple[str | None, ...]  # raw text per column; None = blank cell not shown in the text
Check = Callable[[Reading], bool]

_PIECE_BY_KIND = {
    "count": re.compile(r"(?:0|[1-9]\d*)(?:[次件个条项宗])?"),
    "signed_count": re.compile(r"(?:[+\-]|增|减)?(?:0|[1-9]\d*)(?:[次件个条项宗])?"),
    "amount": re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?(?:万元|亿元|元)?"),
}


@dataclass(frozen=True)
class SumRule:
    """A row rule of sums, usable as a ``Check``: in each ``(first, total)`` group the cells ``first`` to
    ``total - 1`` add up to cell ``total`` (``value`` reads a cell, 0 for a blank).  Knowing the groups lets the
    flattened walk drop a partial reading as soon as a group is complete and wrong."""

    groups: tuple[tuple[int, int], ...]
    value: Callable[[str | None], float]
    _firsts: dict[int, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_firsts", {total: first for first, total in self.groups})

    def __call__(self, reading: Reading) -> bool:
        values = list(map(self.value, reading))
        return all(sum(values[first:total]) == values[total] for first, total in self.groups)

    def group_holds(self, cells: Sequence[str | None], total: int) -> bool:
        """Whether the group whose total is cell ``total`` adds up (True where no group ends there)."""
        first = self._firsts.get(total)
        if first is None:
            return True
        value = self.value
        return sum(map(value, cells[first:total])) == value(cells[total])


@dataclass(frozen=True)
class Placement:
    """The outcome for one row: ``readings`` holds every reading that survived (one when decided)."""

    readings: tuple[Reading, ...]
    literal: bool  # the text printed exactly one chunk per column
    rule_checked: bool  # readings were filtered by the row rule
    blanks_inserted: bool
    truncated: bool = False  # more readings exist than are listed, or enumeration ran out of budget

    @property
    def decided(self) -> bool:
        return len(self.readings) == 1 and not self.truncated

    def agreed(self) -> Reading:
        """Per column: the raw value every reading agrees on, else None (undetermined)."""
        first = self.readings[0]
        if len(self.readings) == 1:
            return first
        return tuple(v if all(r[i] == v for r in self.readings) else None for i, v in enumerate(first))

    def undetermined(self) -> list[int]:
        if self.truncated:
            return list(range(len(self.readings[0])))
        if len(self.readings) == 1:
            return []
        first = self.readings[0]
        return [i for i, v in enumerate(first) if any(r[i] != v for r in self.readings)]


def _run_readings(chunks: Sequence[str], ncols: int, allow_blanks: bool) -> Iterator[Reading]:
    """Token layouts: each chunk stands for a run of ≥1 equal cells, or (tier 2) for one cell among blanks.

    Runs are the cut points between chunks, blanks the columns the chunks stand in; both are enumerated as
    combinations in lexicographic order (the first chunk's run shortest, or its column leftmost, first)."""
    m = len(chunks)
    if m > ncols or m == 0:
        return
    if allow_blanks:
        for columns in combinations(range(ncols), m):
            cells: list[str | None] = [None] * ncols
            for column, chunk in zip(columns, chunks, strict=True):
                cells[column] = chunk
            yield tuple(cells)
        return
    runs = [[(chunk,) * k for k in range(ncols + 1)] for chunk in chunks]  # runs[i][k]: chunk i over k cells
    last = runs[-1]
    for cuts in combinations(range(1, ncols), m - 1):
        reading: Reading = ()
        previous = 0
        for chunk_runs, cut in zip(runs, cuts, strict=False):  # the last chunk runs to the end
            reading += chunk_runs[cut - previous]
            previous = cut
        yield reading + last[ncols - previous]


Emit = Callable[[Reading], bool]  # takes one reading; False stops the enumeration


@lru_cache(maxsize=16_384)
def _piece_ends(chunk: str, kind: str) -> tuple[tuple[int, ...], ...]:
    """Per offset into ``chunk``: the ends at which a whole cell of ``kind`` can stop there (the rest of the
    chunk, or a piece followed by the digit or sign that starts the next cell)."""
    pattern = _PIECE_BY_KIND.get(kind, _PIECE_BY_KIND["count"])
    size = len(chunk)
    return tuple(
        tuple(end for end in range(offset + 1, size + 1)
              if pattern.fullmatch(chunk, offset, end) and (end == size or chunk[end].isdigit() or chunk[end] in "+-增减"))
        for offset in range(size))


def _split_readings(chunks: Sequence[str], kinds: Sequence[str], allow_blanks: bool, emit: Emit,
                    rule: SumRule | None = None) -> bool:
    """Flattened layouts: each chunk is the concatenation of one or more whole cells (no leading zeros).

    A depth-first walk over (chunk, offset into it, column) that hands each distinct reading to ``emit``; with
    ``rule``, only readings that satisfy it (a branch is cut where one of its groups does not add up).  The walk
    visits at most ``ENUMERATION_BUDGET`` steps (cut branches and repeated readings emit nothing, so counting
    readings alone would not bound it); False when it stopped short for that reason."""
    ncols = len(kinds)
    nchunks = len(chunks)
    seen: set[Reading] = set()
    # characters left from each chunk onward: a reading needs at least one character per cell
    chars_from = [sum(len(c) for c in chunks[i:]) for i in range(nchunks + 1)]
    ends = [{kind: _piece_ends(chunk, kind) for kind in set(kinds)} for chunk in chunks]
    totals = frozenset(total for _, total in rule.groups) if rule is not None else frozenset()
    cells: list[str | None] = []
    steps = 0

    def walk(ci: int, offset: int, col: int) -> bool:
        nonlocal steps
        steps += 1
        if steps > ENUMERATION_BUDGET:
            return False
        remaining_cols = ncols - col
        if not allow_blanks and (remaining_cols < nchunks - ci or chars_from[ci] - offset < remaining_cols):
            return True
        if ci == nchunks:
            reading = tuple(cells) + (None,) * remaining_cols if allow_blanks else tuple(cells)
            if len(reading) == ncols and reading not in seen:
                seen.add(reading)
                return emit(reading)
            return True
        if col == ncols:
            return True
        chunk = chunks[ci]
        closes_group = col in totals
        if allow_blanks and offset == 0:
            cells.append(None)
            going = walk(ci, offset, col + 1) if not closes_group or rule.group_holds(cells, col) else True  # type: ignore[union-attr]
            cells.pop()
            if not going:
                return False
        size = len(chunk)
        for end in ends[ci][kinds[col]][offset]:
            cells.append(chunk[offset:end])
            if closes_group and not rule.group_holds(cells, col):  # type: ignore[union-attr]
                going = True
            else:
                going = walk(ci + 1, 0, col + 1) if end == size else walk(ci, end, col + 1)
            cells.pop()
            if not going:
                return False
        return True

    walk(0, 0, 0)
    return steps <= ENUMERATION_BUDGET


def _collect(produce: Callable[[Emit], bool], check: Check | None) -> tuple[list[Reading], bool]:
    """Readings that pass ``check`` (at most MAX_CANDIDATES + 1) and whether the enumeration was cut short.

    ``produce`` hands readings to ``emit`` until it returns False, and returns False itself when it stopped
    short of its own accord."""
    kept: list[Reading] = []
    generated = 0
    truncated = False

    def emit(reading: Reading) -> bool:
        nonlocal generated, truncated
        generated += 1
        if generated > ENUMERATION_BUDGET:
            truncated = True
            return False
        if check is None or check(reading):
            kept.append(reading)
            if len(kept) > MAX_CANDIDATES:
                truncated = True
                return False
        return True

    complete = produce(emit)
    return kept, truncated or not complete


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
    if len(chunks) == 1 and not flattened:
        # One printed value for the whole row: the only reading without blanks is a run over every cell.
        run = (chunks[0],) * ncols
        if check is None or check(run):
            return Placement((run,), False, check is not None, False)

    def enumerate_readings(allow_blanks: bool, rule: Check | None = check) -> Callable[[Emit], bool]:
        if flattened:
            prune = rule if isinstance(rule, SumRule) else None
            return lambda emit: _split_readings(chunks, kinds, allow_blanks, emit, prune)
        return lambda emit: all(map(emit, _run_readings(chunks, ncols, allow_blanks)))

    for allow_blanks in (False, True):
        kept, truncated = _collect(enumerate_readings(allow_blanks), check)
        if kept:
            return Placement(tuple(kept[:MAX_CANDIDATES]), False, check is not None, allow_blanks, truncated)
        if truncated:  # the budget ran out before any reading passed: undecidable, not "no reading"
            break
    # Nothing satisfies the rule: the report's arithmetic is broken here. Offer the readings that need no
    # blank cell, unfiltered, so that the row is reported ambiguous rather than silently forced.
    kept, truncated = _collect(enumerate_readings(False, None), None)
    if not kept:
        return Placement((), False, False, False)
    return Placement(tuple(kept[:MAX_CANDIDATES]), False, False, False, truncated)
