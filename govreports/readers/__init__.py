"""Readers: the bytes of one input file → the text layout that the one report parser reads.

One parser, several readers.  Each reader recovers what its format knows about the document — paragraphs in
order, and tables row by row with every merged cell written once, in the row where it starts — and writes it in
the pipe layout of :mod:`govreports.readers.layout`; :mod:`govreports.parser` then maps that onto the template
spec the same way for every format.  The format is told by content (:mod:`govreports.readers.detect`), never
by file name.

What belongs here: detection, the readers (``html``, ``docx``, ``pdf``; plain text needs none), and the
manifest of where collected files came from (:mod:`govreports.readers.manifest`).  What does not: finding the
tables in the text, reading cells, building records (``govreports.parser``).  The PDF and Word libraries are
imported only when such a file arrives, so that text and HTML parsing never pay for them.
"""

from __future__ import annotations

import codecs

from govreports.decode import Undecodable, decode
from govreports.readers.detect import detect_format, sniff
from govreports.readers.errors import Rendered, Unreadable
from govreports.readers.html import to_plain_text

__all__ = ["Rendered", "Unreadable", "detect_format", "read_bytes", "sniff"]


def read_bytes(data: bytes, *, max_bytes: int | None = None) -> Rendered:
    """The document in the pipe layout with its format (``text``, ``html``, ``docx``, ``pdf``) and encoding.

    Raises :class:`Unreadable` with the quarantine reason when no reader can take the bytes."""
    if max_bytes is not None and len(data) > max_bytes:
        raise Unreadable("too_large", f"{len(data)} bytes exceeds the limit of {max_bytes}")
    kind = sniff(data)
    if kind == "pdf":
        from govreports.readers.pdf import read_pdf

        return read_pdf(data)
    if kind == "docx":
        from govreports.readers.docx import read_docx

        return read_docx(data)
    if kind == "ole":
        raise Unreadable("unsupported_format", "a legacy Office (OLE2) file such as .doc/.wps: save it as .docx")
    if kind == "zip":
        raise Unreadable("binary", "a ZIP archive that is not a Word document")
    try:
        decoded = decode(data, max_bytes=max_bytes)
    except Undecodable as error:
        raise Unreadable(error.reason, error.detail) from None
    # The bytes themselves when they are exactly the text in UTF-8: the HTML reader need not encode it again.
    utf8 = data if decoded.encoding == "utf-8" and not data.startswith(codecs.BOM_UTF8) else None
    plain, fmt = to_plain_text(decoded.text, utf8=utf8)
    return Rendered(plain, fmt, decoded.encoding)
