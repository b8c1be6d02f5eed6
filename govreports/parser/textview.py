"""A searchable view of report text that ignores layout noise but keeps offsets into the original.

Labels in copied reports are split by spaces, line breaks, tabs, pipes and quote marks ("自 然 人",
"本年新\\n制作数量", "危及\\n“\\n三安全一稳定\\n”").  ``TextView`` searches a *squeezed* copy with those removed
and maps every match back to offsets in the original, so that the cells between two labels can be read from
the original text with their separators intact.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from govreports.normalise import FULLWIDTH

_NOISE = re.compile(r"[\s|\"'“”‘’「」]+")


_WIDE_RUN = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(FULLWIDTH)) + "]+")


def _translate_run(match: re.Match[str]) -> str:
    return match.group(0).translate(FULLWIDTH)


def translate(text: str) -> str:
    """Full-width → ASCII, one character for one character (offsets are preserved).

    ``str.translate`` with a mapping looks up every character; translating only the runs of wide characters
    is several times faster on Chinese text, where they are a small minority."""
    return _WIDE_RUN.sub(_translate_run, text)


def _code_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: its translation (``FULLWIDTH``) and whether it is layout noise after translation.

    Noise is what ``_NOISE`` matches: white space as ``\\s`` has it (``str.isspace``), pipes, quote marks."""
    translation = np.arange(0x10000, dtype=np.uint32)
    for code, target in FULLWIDTH.items():
        translation[code] = target
    is_noise = np.fromiter((chr(c).isspace() for c in range(0x10000)), dtype=bool, count=0x10000)
    for char in "|\"'“”‘’「」":
        is_noise[ord(char)] = True
    return translation, is_noise[translation]


_TRANSLATION, _NOISE_AFTER_TRANSLATION = _code_tables()


@dataclass
class TextView:
    """The text from ``start`` on, translated (``text``) and squeezed (``squeezed``), with ``_positions[i]``
    the original offset of squeezed character ``i`` (a memoryview of a numpy array: indexing yields ints)."""

    text: str  # the whole text, translated from ``start`` on (same length as the original)
    squeezed: str
    _positions: memoryview

    @classmethod
    def of(cls, original: str, start: int = 0) -> TextView:
        """Translate and squeeze ``original[start:]`` in one vectorised pass (a Python loop over characters, or
        a regex over their runs, costs more than all the label searches together)."""
        codes = np.frombuffer(original[start:].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if codes.size and np.maximum.reduce(codes) > 0xFFFF:  # astral characters are never translated nor noise
            bmp = np.minimum(codes, 0xFFFF)
            translated = np.where(codes > 0xFFFF, codes, _TRANSLATION.take(bmp))
            kept = ~(_NOISE_AFTER_TRANSLATION.take(bmp) & (codes <= 0xFFFF))
        else:
            translated = _TRANSLATION.take(codes)
            kept = ~_NOISE_AFTER_TRANSLATION.take(codes)
        text = original[:start] + translated.tobytes().decode("utf-32-le", "surrogatepass")
        squeezed = translated[kept].tobytes().decode("utf-32-le", "surrogatepass")
        positions = np.flatnonzero(kept)
        if start:
            positions += start
        return cls(text, squeezed, memoryview(positions))

    def to_original(self, squeezed_offset: int, *, end: bool = False) -> int:
        """Original offset of a squeezed offset (``end=True`` maps an exclusive end offset); offsets past either
        end of the squeezed text extrapolate from its first or last character."""
        positions = self._positions
        if not positions:
            return 0
        target = squeezed_offset - 1 if end else squeezed_offset
        index = min(max(target, 0), len(positions) - 1)
        original = positions[index] + (target - index)
        return original + 1 if end else original

    def to_squeezed(self, original_offset: int) -> int:
        """Squeezed offset of an original offset: the number of squeezed characters before it."""
        return bisect_left(self._positions, original_offset)

    def search(self, pattern: re.Pattern[str], start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """First match of ``pattern`` in the squeezed text between original offsets; original (start, end)."""
        positions = self._positions
        sq_end = len(self.squeezed) if end is None else bisect_left(positions, end)
        match = pattern.search(self.squeezed, bisect_left(positions, start), sq_end)
        if match is None:
            return None
        first, last = match.start(), match.end() - 1  # the first and last squeezed characters matched
        if 0 <= last < len(positions) and first < len(positions):
            return positions[first], positions[last] + 1
        return self.to_original(first), self.to_original(last + 1, end=True)


@lru_cache(maxsize=1024)
def label_pattern(*labels: str, prefix: str = "") -> re.Pattern[str]:
    """A pattern for any of ``labels`` in squeezed text (noise removed, full-width translated)."""
    alternatives = sorted({re.escape(_NOISE.sub("", translate(label))) for label in labels}, key=len, reverse=True)
    return re.compile(prefix + "(?:" + "|".join(alternatives) + ")")
