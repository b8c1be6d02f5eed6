"""A searchable view of report text that ignores layout noise but keeps offsets into the original.

Labels in copied reports are split by spaces, line breaks, tabs, pipes and quote marks ("自 然 人",
"本年新\\n制作数量", "危及\\n“\\n三安全一稳定\\n”").  ``TextView`` searches a *squeezed* copy with those removed
and maps every match back to offsets in the original, so that the cells between two labels can be read from
the original text with their separators intact.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from govreports.normalise import FULLWIDTH

_NOISE = re.compile(r"[\s|\"'“”‘’「」]+")
_KEPT = re.compile(r"[^\s|\"'“”‘’「」]+")


_WIDE_RUN = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(FULLWIDTH)) + "]+")


def _translate_run(match: re.Match[str]) -> str:
    return match.group(0).translate(FULLWIDTH)


def translate(text: str) -> str:
    """Full-width → ASCII, one character for one character (offsets are preserved).

    ``str.translate`` with a mapping looks up every character; translating only the runs of wide characters
    is several times faster on Chinese text, where they are a small minority."""
    return _WIDE_RUN.sub(_translate_run, text)


@dataclass
class TextView:
    text: str  # translated text (same length as the original)
    squeezed: str
    _sq_starts: list[int]  # squeezed offset where each kept run starts
    _orig_starts: list[int]  # original offset of the same run

    @classmethod
    def of(cls, text: str, start: int = 0, end: int | None = None) -> TextView:
        end = len(text) if end is None else end
        runs = _KEPT.findall(text, start, end)
        orig_starts = [m.start() for m in _KEPT.finditer(text, start, end)]
        lengths = [len(r) for r in runs]
        sq_starts = [0, *accumulate(lengths)][:-1] if runs else []
        return cls(text, "".join(runs), sq_starts, orig_starts)

    def to_original(self, squeezed_offset: int, *, end: bool = False) -> int:
        """Original offset of a squeezed offset (``end=True`` maps an exclusive end offset)."""
        if not self._sq_starts:
            return 0
        target = squeezed_offset - 1 if end else squeezed_offset
        index = bisect.bisect_right(self._sq_starts, target) - 1
        index = max(index, 0)
        original = self._orig_starts[index] + (target - self._sq_starts[index])
        return original + 1 if end else original

    def to_squeezed(self, original_offset: int) -> int:
        index = bisect.bisect_right(self._orig_starts, original_offset) - 1
        if index < 0:
            return 0
        within = original_offset - self._orig_starts[index]
        next_sq = self._sq_starts[index + 1] if index + 1 < len(self._sq_starts) else len(self.squeezed)
        return min(self._sq_starts[index] + within, next_sq)

    def search(self, pattern: re.Pattern[str], start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """First match of ``pattern`` in the squeezed text between original offsets; original (start, end)."""
        sq_start = self.to_squeezed(start)
        sq_end = len(self.squeezed) if end is None else self.to_squeezed(end)
        match = pattern.search(self.squeezed, sq_start, sq_end)
        if match is None:
            return None
        return self.to_original(match.start()), self.to_original(match.end(), end=True)


@lru_cache(maxsize=1024)
def label_pattern(*labels: str, prefix: str = "") -> re.Pattern[str]:
    """A pattern for any of ``labels`` in squeezed text (noise removed, full-width translated)."""
    alternatives = sorted({re.escape(_NOISE.sub("", translate(label))) for label in labels}, key=len, reverse=True)
    return re.compile(prefix + "(?:" + "|".join(alternatives) + ")")
