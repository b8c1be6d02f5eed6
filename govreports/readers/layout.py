"""The pipe layout every reader writes and the one text parser reads, in one place.

A document is a sequence of blocks: a paragraph is its own line; a table is one line per row, the row's own
cells separated by `` | `` and closed by `` |`` (blank cells kept as empty cells, a merged cell written once, in
the row where it starts).  Blocks are separated by blank lines.  What belongs here: writing that layout.  What
does not: getting the blocks out of a format (the reader modules) or reading the layout (``govreports.parser``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LINE_END_BLANKS = " \t\u00a0\u3000"
_BLANK_LINES = re.compile(r"\n{3,}")


def cell_text(text: str) -> str:
    """A cell's text on one line: white-space runs (line breaks included) become one space."""
    return " ".join(text.split())


def row_line(cells: Iterable[str]) -> str:
    """One table row as written in the layout (cells already passed through :func:`cell_text`)."""
    return " | ".join(cells) + " |"


def finish(text: str) -> str:
    """Trailing blanks dropped from lines, runs of blank lines cut to one, the ends stripped."""
    text = "\n".join([line.rstrip(_LINE_END_BLANKS) for line in text.split("\n")])
    return _BLANK_LINES.sub("\n\n", text).strip()


def join_blocks(blocks: Iterable[str]) -> str:
    return finish("\n\n".join(blocks))
