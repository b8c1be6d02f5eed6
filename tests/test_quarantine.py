"""Inputs that are not readable reports become quarantined records with a reason — never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from govreports.parser import parse_bytes, parse_path
from tests.gold import CORPUS

SEED = (CORPUS / "seeds" / "000_5c245e0f5975cf67.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\t  \n", "empty"),
        (bytes(range(256)) * 20, "binary"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "corrupt_pdf"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary"),
        (b"\xff\xfe", "empty"),
        ("今天天气很好，我们去公园散步，然后吃饭。".encode(), "not_a_report"),
        (b"\x81\x30\x81\x30\xfe\xff\xfe\xff" * 200, "undecodable"),
    ],
)
def test_bad_input_reasons(data: bytes, reason: str) -> None:
    record = parse_bytes(data, "bad")
    assert record["status"] == "quarantined"
    assert record["reason"] == reason
    assert record["source"]["sha256"] and record["source"]["bytes"] == len(data)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be"])
def test_encodings_are_detected(encoding: str) -> None:
    record = parse_bytes(SEED.encode(encoding), "seed")
    assert record["status"] == "parsed"
    assert record["metadata"]["agency"] == "金东区鞋塘办事处"
    assert len(record["applications"]) == 161


def test_size_limit_quarantines() -> None:
    record = parse_bytes(SEED.encode(), "big", max_bytes=1000)
    assert (record["status"], record["reason"]) == ("quarantined", "too_large")


def test_pre2019_report_gives_metadata_and_sections() -> None:
    record = parse_path(CORPUS / "dev" / "putian_shi_2008.txt")
    assert record["status"] == "partial" and record["reason"] == "no_standard_tables"
    assert record["metadata"]["template"] == "pre2019" and record["metadata"]["report_year"] == 2008
    assert any(f["rule"] == "no_standard_tables" for f in record["findings"])
    assert len(record["sections"]) >= 2


def test_cli_never_dies_on_bad_files(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(SEED, encoding="gb18030")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "news.html").write_text("<html><body><p>新闻</p><p>天气</p><div>x</div></body></html>")
    result = subprocess.run([sys.executable, "-m", "govreports", "parse", str(tmp_path), str(tmp_path / "missing")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(r["source"]["path"]).name: r for r in records}
    assert by_name["good.txt"]["status"] == "parsed"
    assert by_name["good.txt"]["source"]["encoding"] == "gb18030"
    assert by_name["empty.txt"]["reason"] == "empty"
    assert by_name["junk.bin"]["reason"] == "binary"
    assert by_name["news.html"]["reason"] == "not_a_report"
    assert by_name["missing"]["reason"] == "unreadable"
    assert result.stderr == ""


def test_cli_pretty_prints_one_object_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(SEED, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "govreports", "parse", "--pretty", str(tmp_path / "a.txt")],
                            capture_output=True, text=True, check=True)
    record = json.loads(result.stdout)
    assert record["status"] == "parsed" and "\n  " in result.stdout
