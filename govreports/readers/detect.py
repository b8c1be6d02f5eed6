"""Format detection by content, never by file name: PDF, DOCX (a ZIP holding a WordprocessingML document),
HTML and plain text.

What belongs here: looking at bytes to say which reader takes them.  What does not: reading them (the reader
modules beside this one) or decoding text (``govreports.decode``).
"""

from __future__ import annotations

import io
import zipfile

from govreports.decode import Undecodable, decode

PDF_MAGIC = b"%PDF-"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOCX_MAIN_PART = "word/document.xml"
_DOCX_CONTENT_TYPE = b"wordprocessingml.document.main+xml"
_CONTENT_TYPES_LIMIT = 1 << 20


def is_pdf(data: bytes) -> bool:
    """PDF header at the start, or within the first KiB after junk as readers tolerate (ISO 32000 §7.5.2)."""
    if data[:1024].lstrip(b"\x00\t\n\r\f ").startswith(PDF_MAGIC):
        return True
    at = data.find(PDF_MAGIC, 0, 1024)
    return at > 0 and data.find(b" obj", at, at + 65_536) > 0


def _zip_is_docx(archive: zipfile.ZipFile) -> bool:
    names = set(archive.namelist())
    if DOCX_MAIN_PART in names:
        return True
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return False
    if info.file_size > _CONTENT_TYPES_LIMIT:
        return False
    try:
        return _DOCX_CONTENT_TYPE in archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
        return False


def sniff(data: bytes) -> str:
    """The container kind: ``pdf``, ``docx``, ``zip`` (another archive), ``ole`` (legacy Office) or ``other``.

    A damaged ZIP that names Word parts in its local headers still counts as ``docx``, so that its reader
    reports it as a corrupt Word file rather than as unknown binary."""
    if is_pdf(data):
        return "pdf"
    if data.startswith(ZIP_MAGICS):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "docx" if _zip_is_docx(archive) else "zip"
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            return "docx" if b"word/" in data else "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    return "other"


def detect_format(data: bytes) -> str:
    """``pdf``, ``docx``, ``html``, ``text``, or ``binary`` for what no reader takes (including bytes that do
    not decode as text)."""
    kind = sniff(data)
    if kind in ("pdf", "docx"):
        return kind
    if kind in ("zip", "ole"):
        return "binary"
    from govreports.readers.html import embedded_html, looks_like_html

    try:
        text = decode(data).text
    except Undecodable:
        return "binary"
    return "html" if embedded_html(text) is not None or looks_like_html(text) else "text"
