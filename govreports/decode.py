"""Bytes → text, with the encoding detected from the bytes (never assumed), or a quarantine reason.

A page's own charset declaration (``<meta charset="gbk">``, ``<meta http-equiv="Content-Type"
content="text/html; charset=gb2312">``, ``<?xml … encoding="GBK"?>``) is honoured for the GB family when the
bytes are not valid UTF-8; other declarations are not trusted (Chinese sites often mislabel GBK pages as
ISO-8859-1), and a page that declares GBK but is valid UTF-8 is read as UTF-8.

Reason codes: ``empty``, ``binary``, ``undecodable``, ``too_large``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_DECLARED_CHARSET = re.compile(
    rb"""<meta\b[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})|<\?xml\b[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{2,40})""",
    re.IGNORECASE)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "csgb2312", "gb_2312-80"}
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"7z\xbc\xaf")


class Undecodable(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def _plausible(text: str, ascii_compatible: bytes | None = None) -> bool:
    """Text, not noise: not blank, and hardly any control characters.

    ``ascii_compatible``: the bytes ``text`` was decoded from, when every control character of the text is
    the same single byte in them (UTF-8, GB18030); bytes without any control byte need no closer look."""
    if not text or text.isspace():
        return False
    if ascii_compatible is not None:
        # The sample below is the first 20,000 characters: at most four bytes each in UTF-8 and GB18030.
        head = ascii_compatible[:80_000]
        if len(head.translate(None, _CONTROL_BYTES)) == len(head):
            return True
    sample = text[:20_000]
    controls = len(_CONTROL.findall(sample))
    return controls <= max(2, len(sample) // 200)


def decode(data: bytes, *, max_bytes: int | None = None) -> Decoded:
    """Decode report bytes: BOMs first, then strict UTF-8, UTF-16 without BOM, then GB18030."""
    if max_bytes is not None and len(data) > max_bytes:
        raise Undecodable("too_large", f"{len(data)} bytes exceeds the limit of {max_bytes}")
    if not data or data.isspace():
        raise Undecodable("empty", "the file is empty or holds only white space")
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as error:
                raise Undecodable("undecodable", f"{encoding} BOM but invalid bytes: {error}") from None
            if not text.strip():
                raise Undecodable("empty", "the file holds only a byte-order mark")
            return Decoded(text, encoding.replace("-sig", ""))
    head = data[:8]
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        raise Undecodable("binary", f"binary file (magic {head[:4]!r})")
    sample = data[:4000]
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    if zeros_odd > len(sample) // 8 and zeros_even < zeros_odd // 4:
        try:
            return _checked(data.decode("utf-16-le"), "utf-16-le")
        except (UnicodeDecodeError, Undecodable):
            pass
    if zeros_even > len(sample) // 8 and zeros_odd < zeros_even // 4:
        try:
            return _checked(data.decode("utf-16-be"), "utf-16-be")
        except (UnicodeDecodeError, Undecodable):
            pass
    if b"\x00" in sample:
        raise Undecodable("binary", "NUL bytes in a file that is not UTF-16")
    try:
        return _checked(data.decode("utf-8"), "utf-8", data)
    except UnicodeDecodeError:
        pass
    declared = declared_charset(data)
    if declared == "gb18030":  # GB2312 and GBK are subsets: decode with the superset
        try:
            return _checked(data.decode("gb18030"), "gb18030", data)
        except UnicodeDecodeError:
            pass  # the declaration is wrong; fall back to detection
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise Undecodable("undecodable", f"neither UTF-8, UTF-16 nor GB18030: {error}") from None
    decoded = _checked(text, "gb18030", data)
    # GB18030 maps almost any byte pair to some character: demand real Chinese text, not noise.
    cjk = len(_CJK.findall(text[:20_000]))
    common = sum(text.count(ch) for ch in "的政府信息公开年报告")
    if cjk and common * 50 < cjk:
        raise Undecodable("undecodable", "bytes decode as GB18030 only to implausible text")
    return decoded


def declared_charset(data: bytes, *, window: int = 16_384) -> str | None:
    """``gb18030`` when the document's head declares a GB-family charset, else None.

    Only the first ``window`` bytes are searched (a page declares its charset in its head)."""
    match = _DECLARED_CHARSET.search(data, 0, window)
    if not match:
        return None
    name = (match.group(1) or match.group(2)).decode("ascii").lower()
    return "gb18030" if name in _GB_FAMILY else None


def _checked(text: str, encoding: str, ascii_compatible: bytes | None = None) -> Decoded:
    if not _plausible(text, ascii_compatible):
        raise Undecodable("binary", f"decodes as {encoding} but is mostly control characters")
    return Decoded(text, encoding)
