"""The bad-input corpus: hostile and broken files laid into a landing folder beside good reports.

``tests/fixtures/bad/EXPECTED.tsv`` names every case, the landing path it gets, how it is made, and what the
pipeline must make of it (ledger status, reason, and a note for the cases that are parsed but flagged).  Small
cases are committed in ``tests/fixtures/bad/`` (``write_fixtures`` made them); large or unrepresentable ones
are made here at test time — the 200 MB text file, the 300 MB zip bomb, the slow PDF, symlinks, a FIFO, and
file names with control characters or bytes that are not UTF-8.  ``lay_bad_landing`` lays them all.

Nothing here runs the pipeline.  Run ``python -m tests.bad_corpus`` to rewrite the committed files.
"""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.gold import CORPUS

BAD = Path(__file__).parent / "fixtures" / "bad"
EXPECTED_TSV = BAD / "EXPECTED.tsv"
YEAR = 2020
SECRET_MARKER = "SECRET-OUTSIDE-LANDING-7f3a9c"
BIG_BYTES = 200 * 1024 * 1024
GBK_NAME = "报告".encode("gbk")  # a file name in GBK bytes, as a crawler on a Chinese Windows share saves it

# --------------------------------------------------------------------------------------------- file makers

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>')


def docx_document(paragraphs: list[str], *, prolog: str = "") -> str:
    """``word/document.xml`` with one paragraph per text (texts are inserted as they are: entity references
    stay references); ``prolog`` goes between the XML declaration and the root element (a DTD, comments)."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>' for text in paragraphs)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
            f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>')


def minimal_docx(document_xml: str, extra: dict[str, bytes | str] | None = None) -> bytes:
    """The smallest Word package python-docx opens: content types, package relationships, the document."""
    members: dict[str, bytes | str] = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": PACKAGE_RELS,
                                       "word/document.xml": document_xml, **(extra or {})}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2021, 1, 31, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def billion_laughs(levels: int = 9, fanout: int = 10) -> tuple[str, str]:
    """(DTD internal subset entries, the reference) of the classic exponential entity expansion:
    ``&lol9;`` would expand to 10**9 × "lol"."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * fanout}">' for i in range(1, levels + 1))
    return entities, f"&lol{levels};"


def report_text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def truncated_mid_table() -> bytes:
    """A report cut in the middle of table 三, inside row （三）不予公开 (as an interrupted download leaves it)."""
    text = report_text("dev/pingtan_qu_2020.txt")
    return text[: text.index("（三）不予公开") + 20].encode()


def missing_table() -> bytes:
    """A report whose table 四 (administrative review and litigation) is gone, the text around it intact."""
    lines = report_text("dev/putian_tjj_2020.txt").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("四、政府信息公开行政复议"))
    end = next(i for i, line in enumerate(lines) if line.startswith("五、存在的主要问题"))
    return "".join(lines[:start] + lines[end:]).encode()


def same_agency_other_numbers() -> bytes:
    """putian_sjj_2020 again, with two figures of table 二 changed: the same agency and year reported twice
    with different numbers (a corrected re-publication, or a typo in one copy)."""
    lines = report_text("dev/putian_sjj_2020.txt").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("二、主动公开政府信息情况"))
    changed = 0
    for i in range(start, len(lines)):
        if lines[i].strip() == "0" and changed < 2:
            lines[i] = "7\n"
            changed += 1
    assert changed == 2
    return "".join(lines).encode()


def mixed_encoding() -> bytes:
    """The first half of a report in UTF-8, the second in GBK (two fragments glued by a crawler)."""
    text = report_text("dev/putian_cgj_2019.txt")
    half = len(text) // 2
    return text[:half].encode("utf-8") + text[half:].encode("gbk")


NOTICE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>关于做好2021年春节期间疫情防控工作的通知_莆田市人民政府</title></head>
<body><div class="nav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a> | <a href="/zwgk/tzgg/">通知公告</a></div>
<div class="content"><h1>关于做好2021年春节期间疫情防控工作的通知</h1><p>各县（区）人民政府，市直各单位：</p>
<p>为切实做好春节期间疫情防控工作，现将有关事项通知如下。</p>
<table><tr><td>索引号</td><td>FJ00001-0200-2021-00001</td></tr><tr><td>发布日期</td><td>2021-01-20</td></tr></table>
<p>一、加强组织领导。二、落实防控措施。三、做好值班值守。</p><p>莆田市人民政府办公室</p><p>2021年1月20日</p>
</div></body></html>
"""


def entity_bomb_html() -> bytes:
    entities, reference = billion_laughs()
    return (f'<?xml version="1.0"?>\n<!DOCTYPE html [{entities}]>\n<html><head><title>通知</title></head>'
            f"<body><div><p>{reference}</p><p>{reference}</p></div><table><tr><td>{reference}</td></tr></table>"
            "</body></html>\n").encode()


def entity_bomb_docx(*, late: bool = False) -> bytes:
    """Billion laughs in ``word/document.xml``; ``late``: the DTD after a 6 KB comment, beyond a reader that
    looks for a DTD in the first few KB only."""
    entities, reference = billion_laughs()
    prolog = ("<!--" + "x" * 6000 + "-->" if late else "") + f"<!DOCTYPE w:document [{entities}]>"
    return minimal_docx(docx_document(["2020年政府信息公开工作年度报告", reference], prolog=prolog))


def corrupt_docx() -> bytes:
    whole = minimal_docx(docx_document(["2020年政府信息公开工作年度报告", "一、总体情况"]))
    return whole[: len(whole) * 2 // 3]


def ratio_zip_bomb() -> bytes:
    """A Word package with a 4 MiB member of zeros (inflates ~1000-fold)."""
    return minimal_docx(docx_document(["2020年政府信息公开工作年度报告"]), {"word/media/image1.bin": b"\0" * (4 << 20)})


def image_only_pdf() -> bytes:
    """A 'scanned' report page: one picture of text, no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(__file__).parent / "fixtures" / "readers" / "fonts" / "wqy-microhei-subset.ttf"),
                              20)
    image = Image.new("1", (620, 877), 1)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(["2020年政府信息公开工作年度报告", "一、总体情况", "二、主动公开政府信息情况"]):
        draw.text((60, 60 + 36 * i), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    pdf = FPDF(format="A4")
    pdf.set_creation_date(__import__("datetime").datetime(2021, 1, 31, tzinfo=__import__("datetime").UTC))
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these object bodies (numbered from 1; the first is the catalog) with its cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def one_page_pdf(content: bytes, filters: str) -> bytes:
    """A one-page PDF whose content stream is ``content`` (already encoded by ``filters``, e.g. ``/FlateDecode``)."""
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter [%s] >>\nstream\n%s\nendstream" % (len(content), filters.encode(), content),
    ])


def deflate_bomb_pdf(inflated: int = 1 << 30) -> bytes:
    """A one-page PDF whose content stream, deflated twice, inflates to ``inflated`` bytes (1 GiB of blanks from
    under 2 KB: the second deflate squeezes the first one's repetitive output ~600-fold)."""
    deflater = zlib.compressobj(9)
    blanks = b" " * (1 << 20)
    once = b"".join(deflater.compress(blanks) for _ in range(inflated >> 20)) + deflater.flush()
    return one_page_pdf(zlib.compress(once, 9), "/FlateDecode /FlateDecode")


def junk() -> bytes:
    return random.Random(8).randbytes(4096)


UNDECODABLE = b"\x81\x30\x81\x30\xfe\xff\xfe\xff" * 200

# committed file name -> maker
FIXTURES: dict[str, Callable[[], bytes]] = {
    "empty.txt": lambda: b"",
    "junk.bin": junk,
    "truncated_mid_table.txt": truncated_mid_table,
    "missing_table.txt": missing_table,
    "undecodable.txt": lambda: UNDECODABLE,
    "mixed_encoding.txt": mixed_encoding,
    "not_a_report.html": lambda: NOTICE_PAGE.encode(),
    "entity_bomb.html": entity_bomb_html,
    "corrupt.docx": corrupt_docx,
    "entity_bomb.docx": entity_bomb_docx,
    "entity_bomb_late_dtd.docx": lambda: entity_bomb_docx(late=True),
    "zip_ratio_bomb.docx": ratio_zip_bomb,
    "image_only.pdf": image_only_pdf,
    "deflate_bomb.pdf": deflate_bomb_pdf,
    "same_agency_other_numbers.txt": same_agency_other_numbers,
}


def write_fixtures(folder: Path = BAD) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in FIXTURES.items():
        (folder / name).write_bytes(make())
        written.append(folder / name)
    return written


# --------------------------------------------------------------------------------------- generated at test time

def zip_bomb(path: Path, inflated: int = 300 * 1024 * 1024) -> None:
    """A Word package whose media member inflates to ``inflated`` bytes (~1000:1), streamed to disk."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("word/document.xml", docx_document(["2020年政府信息公开工作年度报告"]))
        with archive.open("word/media/image1.bin", "w", force_zip64=True) as member:
            zeros = b"\0" * (1 << 20)
            for _ in range(inflated >> 20):
                member.write(zeros)


def big_text(path: Path, size: int = BIG_BYTES) -> None:
    """``size`` bytes of report-like text, written 1 MiB at a time."""
    unit = report_text("dev/putian_sjj_2020.txt").encode()
    block = (unit * (1 + (1 << 20) // len(unit)))[: 1 << 20]
    with open(path, "wb") as handle:
        for _ in range(size >> 20):
            handle.write(block)


def slow_pdf(pages: int = 40) -> bytes:
    """A 40-page PDF of dense small text (~40 KB): pdfplumber needs several seconds and hundreds of MB for it —
    the compact kind of input that the per-file time limit is for."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=str(Path(__file__).parent / "fixtures" / "readers" / "fonts" / "wqy-microhei-subset.ttf"))
    pdf.set_font("wqy", size=6)
    for _ in range(pages):
        pdf.add_page()
        for _ in range(60):
            pdf.cell(0, 4, "政府信息公开 1 2 3 4 5 6 7 8 9 " * 4, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def secret_report() -> str:
    """A report that lives outside the landing folder: if anything followed a symlink to it, its marker would
    reach the warehouse."""
    return report_text("dev/putian_wlj_2022.txt").replace("一、总体情况", f"一、总体情况\n{SECRET_MARKER}\n", 1)


# --------------------------------------------------------------------------------------------- the landing

@dataclass(frozen=True)
class Expected:
    case: str
    path: str  # as the ledger records it (relative to the landing folder; bad bytes escaped)
    made: str
    status: str
    reason: str | None
    note: str | None


def expected_cases() -> list[Expected]:
    with open(EXPECTED_TSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))
    return [Expected(r["case"], r["path"].encode("ascii", "backslashreplace").decode("unicode_escape"), r["made"],
                     r["status"], r["reason"] or None, r["note"] or None) for r in rows]


NOTICE_TEXT = "会议纪要\n\n一、会议听取了各部门工作汇报。\n二、会议研究了下一步工作安排。\n".encode()


@dataclass
class BadLanding:
    landing: Path
    outside: Path  # a folder beside the landing folder, holding what the symlinks point to
    cases: list[Expected]  # every case laid (all of EXPECTED.tsv, less the 200 MB file when ``big`` is False)


def lay_bad_landing(landing: Path, *, cache: Path | None = None, big: bool = True) -> BadLanding:
    """Every case of EXPECTED.tsv laid into ``landing`` (good reports included).  ``cache``: a folder that keeps
    the files slow to make (200 MB text, zip bomb, slow PDF) between landings, hard-linked from there;
    ``big``: whether to lay the 200 MB file."""
    landing.mkdir(parents=True, exist_ok=True)
    outside = landing.parent / f"{landing.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text(secret_report(), encoding="utf-8")
    cache = cache or landing.parent / f"{landing.name}-cache"
    cache.mkdir(exist_ok=True)

    def cached(name: str, make: Callable[[Path], None]) -> Path:
        path = cache / name
        if not path.exists():
            part = cache / f"{name}.part"
            make(part)
            part.rename(path)
        return path

    generated: dict[str, Callable[[Path], None]] = {
        "big_text": lambda target: os.link(cached("big.txt", big_text), target),
        "zip_bomb": lambda target: os.link(cached("zip_bomb.docx", zip_bomb), target),
        "slow_pdf": lambda target: os.link(cached("slow.pdf", lambda p: p.write_bytes(slow_pdf())), target),
        "symlink_outside_file": lambda target: target.symlink_to(outside / "secret.txt"),
        "symlink_outside_folder": lambda target: target.symlink_to(Path("..", ".."), target_is_directory=True),
        "dangling_symlink": lambda target: target.symlink_to("does-not-exist.txt"),
        "fifo": lambda target: os.mkfifo(target),
        "duplicate": lambda target: shutil.copyfile(CORPUS / "dev" / "putian_sjj_2020.txt", target),
        "notice_text": lambda target: target.write_bytes(NOTICE_TEXT),
        "partial_download": lambda target: target.write_bytes(b"%PDF-1.7\n%" + b"\0" * 1000),
    }
    laid = []
    for case in expected_cases():
        if case.made == "generated big_text" and not big:
            continue
        target = landing / case.path
        if case.reason == "bad_file_name":  # the real name is GBK bytes; the ledger shows them escaped
            target = Path(os.fsdecode(os.fsencode(landing / str(YEAR)) + b"/" + GBK_NAME + b".txt"))
        target.parent.mkdir(parents=True, exist_ok=True)
        kind, _, what = case.made.partition(" ")
        if kind == "fixture":
            shutil.copyfile(BAD / what, target)
        elif kind == "copy":
            shutil.copyfile(CORPUS / what, target)
        elif kind == "generated" and what in generated:
            generated[what](target)
        else:
            raise ValueError(f"EXPECTED.tsv: case {case.case}: unknown way to make it: {case.made!r}")
        laid.append(case)
    return BadLanding(landing, outside, laid)


if __name__ == "__main__":
    for written in write_fixtures():
        print(f"{written.stat().st_size:>8}  {written.relative_to(Path.cwd()) if written.is_relative_to(Path.cwd()) else written}")
