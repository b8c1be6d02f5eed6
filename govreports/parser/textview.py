"""A searchable view of report text that ignores layout noise but keeps offsets into the original.

Labels in copied reports are split by spaces, line breaks, tabs, pipes and quote marks ("自 然 人",
"本年新\\n制作数量", "危及\\n“\\n三安全一稳定\\n”").  ``TextView`` searches a *squeezed* copy with those removed
and maps every match back to offsets in the original, so that the cells between two labels can be read from
the original text with their separators intact.
"""

from __future__ import annotations

import re
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
    """The text from ``start`` on, translated (``text``) and squeezed (``squeezed``), with the offset maps
    between the two: ``_to_original[i]`` is the original offset of squeezed character ``i``, ``_kept_before[j]``
    the number of squeezed characters before original offset ``start + j``."""

    text: str  # the whole text, translated from ``start`` on (same length as the original)
    squeezed: str
    start: int
    _to_original: list[int]
    _kept_before: list[int]

    @classmethod
    def of(cls, original: str, start: int = 0) -> TextView:
        """Translate and squeeze ``original[start:]`` in one vectorised pass (a Python loop over characters, or
        a regex over their runs, costs more than all the label searches together)."""
        codes = np.frombuffer(original[start:].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        bmp = np.minimum(codes, 0xFFFF)
        translated = np.where(codes > 0xFFFF, codes, _TRANSLATION[bmp])
        kept = ~(_NOISE_AFTER_TRANSLATION[bmp] & (codes <= 0xFFFF))
        text = original[:start] + translated.tobytes().decode("utf-32-le", "surrogatepass")
        squeezed = translated[kept].tobytes().decode("utf-32-le", "surrogatepass")
        to_original = (np.flatnonzero(kept) + start).tolist()
        kept_before = np.concatenate(([0], np.cumsum(kept))).tolist()
        return cls(text, squeezed, start, to_original, kept_before)

    def to_original(self, squeezed_offset: int, *, end: bool = False) -> int:
        """Original offset of a squeezed offset (``end=True`` maps an exclusive end offset); offsets past either
        end of the squeezed text extrapolate from its first or last character."""
        positions = self._to_original
        if not positions:
            return 0
        target = squeezed_offset - 1 if end else squeezed_offset
        index = min(max(target, 0), len(positions) - 1)
        original = positions[index] + (target - index)
        return original + 1 if end else original

    def to_squeezed(self, original_offset: int) -> int:
        """Squeezed offset of an original offset: the number of squeezed characters before it."""
        kept_before = self._kept_before
        return kept_before[min(max(original_offset - self.start, 0), len(kept_before) - 1)]

    def search(self, pattern: re.Pattern[str], start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """First match of ``pattern`` in the squeezed text between original offsets; original (start, end)."""
        kept_before = self._kept_before
        last = len(kept_before) - 1
        sq_start = kept_before[min(max(start - self.start, 0), last)]
        sq_end = len(self.squeezed) if end is None else kept_before[min(max(end - self.start, 0), last)]
        match = pattern.search(self.squeezed, sq_start, sq_end)
        if match is None:
            return None
        return self.to_original(match.start()), self.to_original(match.end(), end=True)


@lru_cache(maxsize=1024)
def label_pattern(*labels: str, prefix: str = "") -> re.Pattern[str]:
    """A pattern for any of ``labels`` in squeezed text (noise removed, full-width translated)."""
    alternatives = sorted({re.escape(_NOISE.sub("", translate(label))) for label in labels}, key=len, reverse=True)
    return re.compile(prefix + "(?:" + "|".join(alternatives) + ")")
