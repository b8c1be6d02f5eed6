"""The two things every reader hands back: the rendered document, or why it cannot be read.

Nothing else belongs here (no reading, no detection); it exists so that the reader modules and the parser
share these types without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rendered:
    """A document in the pipe layout (``govreports.readers.layout``), with the format it was read from."""

    text: str
    fmt: str  # text | html | docx | pdf
    encoding: str | None = None


class Unreadable(Exception):
    """A file no reader can turn into text; ``reason`` is the record's quarantine reason code."""

    def __init__(self, reason: str, detail: str, fmt: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.fmt = fmt
