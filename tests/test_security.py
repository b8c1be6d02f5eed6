"""Security: the Dagster UI listens on loopback only; nothing stores or unpickles pickles of parsed input; the
readers never resolve external entities, XIncludes or links (checked against a real loopback HTTP server and a
real local file); the per-file limits (bytes, seconds, memory) come from the environment with safe defaults and
keep a run going; a file swapped for a symlink after the scan is not followed."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from lxml import etree

from govreports import batch, warehouse
from govreports.batch import ParseJob, parse_files
from govreports.build import build_core_year
from govreports.ingest import ingest_year
from govreports.parser import parse_bytes
from tests.bad_corpus import SECRET_MARKER, docx_document, minimal_docx, secret_report, slow_pdf
from tests.gold import CORPUS

ROOT = Path(__file__).resolve().parents[1]
GOOD = CORPUS / "dev" / "putian_sjj_2020.txt"
FILE_SECRET = "LOCAL-FILE-SECRET-4d1e"


# ---------------------------------------------------------------------------------------------- helpers

class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        body = b"NETWORK-MARKER-93be"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every request path."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.requests  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(FILE_SECRET, encoding="utf-8")
    return path


def worker_processes() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True)
            if "govreports.batch" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE]


def hostile_documents(secret: Path, base: str) -> dict[str, bytes]:
    """Documents that would read ``secret`` or call ``base`` if a reader resolved external entities, XIncludes,
    stylesheets, images, frames or links."""
    dtd = (f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}"><!ENTITY net SYSTEM "{base}/entity">'
           f'<!ENTITY % remote SYSTEM "{base}/dtd"> %remote;]>')
    body = ("<p>2020年政府信息公开工作年度报告</p><p>一、总体情况</p><p>本机关政府信息公开工作。&xxe; &net;</p>"
            f'<img src="{base}/img"/><iframe src="file://{secret}"></iframe><object data="{base}/object"></object>'
            f'<xi:include href="file://{secret}" parse="text"/><xi:include href="{base}/xinclude" parse="text"/>')
    head = (f'<title>年度报告</title><link rel="stylesheet" href="{base}/css"/><script src="{base}/js"></script>'
            f'<meta http-equiv="refresh" content="0; url={base}/refresh"/>')
    html = f"{dtd}<html><head>{head}</head><body>{body}</body></html>"
    xhtml = (f'<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="{base}/xsl"?>{dtd}'
             f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:xi="http://www.w3.org/2001/XInclude">'
             f"<head>{head}</head><body>{body}</body></html>")
    w_dtd = (f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://{secret}"><!ENTITY net SYSTEM "{base}/entity">'
             f'<!ENTITY % remote SYSTEM "{base}/dtd"> %remote;]>')
    paragraphs = ["2020年政府信息公开工作年度报告", "一、总体情况", "&xxe;", "&net;",
                  f'</w:t></w:r><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{secret}" '
                  f'parse="text"/><w:r><w:t>']
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/image" Target="{base}/image.png" TargetMode="External"/><Relationship Id="rId8" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
            f'Target="{base}/link" TargetMode="External"/><Relationship Id="rId7" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
            f'Target="file://{secret}" TargetMode="External"/></Relationships>')
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("wqy", fname=str(ROOT / "tests" / "fixtures" / "readers" / "fonts" / "wqy-microhei-subset.ttf"))
    pdf.set_font("wqy", size=12)
    pdf.add_page()
    pdf.cell(0, 10, "2020年政府信息公开工作年度报告", link=f"{base}/pdf-link", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, "一、总体情况", link=f"file://{secret}", new_x="LMARGIN", new_y="NEXT")
    return {
        "html": html.encode(),
        "xhtml": xhtml.encode(),
        "docx_dtd": minimal_docx(docx_document(paragraphs, prolog=w_dtd)),
        "docx_dtd_after_comment": minimal_docx(docx_document(paragraphs, prolog="<!--" + "x" * 6000 + "-->" + w_dtd)),
        "docx_xinclude_and_external_relationships": minimal_docx(
            docx_document([p for p in paragraphs if "&" not in p]), {"word/_rels/document.xml.rels": rels}),
        "pdf_links": bytes(pdf.output()),
    }


# ---------------------------------------------------------------------------------------------- the UI

@pytest.mark.slow
def test_ui_listens_on_loopback_only(tmp_path: Path) -> None:
    """``govreports ui`` with its defaults, for real: every listening socket of its process tree is loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "GOVREPORTS_DATA_DIR")}
    proc = subprocess.Popen([sys.executable, "-m", "govreports", "ui", "--data-dir", str(tmp_path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "govreports ui exited"
            with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info",
                                                                       timeout=2) as answer:
                assert answer.status == 200
                break
            assert time.monotonic() < deadline, "the UI did not come up in 120 s"
            time.sleep(0.5)
        listening = []
        for process in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                listening += [c.laddr for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert listening, "nothing listens"
        assert any(address.port == port for address in listening)
        assert all(address.ip in ("127.0.0.1", "::1") for address in listening), listening
    finally:  # the whole tree (webserver, daemon, code servers): SIGINT as Ctrl-C would, then SIGKILL stragglers
        tree = [psutil.Process(proc.pid)]
        with contextlib.suppress(psutil.NoSuchProcess):
            tree += psutil.Process(proc.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        _, alive = psutil.wait_procs(tree, timeout=3)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(15)


def test_no_configuration_opens_the_ui_to_the_network() -> None:
    from govreports.cli import build_parser
    from orchestration.instance import DAGSTER_YAML

    assert build_parser().parse_args(["ui"]).host == "127.0.0.1"
    ui_target = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nui:", 1)[1].split("\n\n", 1)[0]
    assert "--host" not in ui_target and " -h " not in ui_target
    for text in (ui_target, (ROOT / "workspace.yaml").read_text(encoding="utf-8"), DAGSTER_YAML):
        assert "0.0.0.0" not in text and "host:" not in text


# ---------------------------------------------------------------------------------------------- no pickles

def test_assets_hand_nothing_to_an_io_manager(tmp_path: Path) -> None:
    """Every asset returns MaterializeResult (its data is written to DuckDB/Parquet by the asset itself), so no
    IO manager ever stores — pickles — a value; and the resources define no IO manager."""
    from dagster import MaterializeResult

    from orchestration.definitions import build_definitions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defs = build_definitions(tmp_path)
        repo = defs.get_repository_def()
    assert not any("io_manager" in key for key in defs.resources or {})
    for key, assets_def in repo.assets_defs_by_key.items():
        returns = inspect.signature(assets_def.op.compute_fn.decorated_fn).return_annotation
        assert returns is MaterializeResult or getattr(returns, "__args__", ()) == (MaterializeResult,), (key, returns)


def test_worker_protocol_is_json_and_never_unpickles(tmp_path: Path) -> None:
    """A parse worker fed a pickle that would run code does not run it; fed a job, it answers JSON."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    argv = [sys.executable, "-m", "govreports.batch", "--worker", str(os.getpid()), "0"]
    payload = pickle.dumps(Exploit())
    hostile = subprocess.run(argv, input=struct.pack("!Q", len(payload)) + payload, capture_output=True, timeout=60)
    assert hostile.returncode != 0 and not marker.exists()
    job = json.dumps([str(GOOD), "good.txt", 10_000_000, None]).encode()
    answer = subprocess.run(argv, input=struct.pack("!Q", len(job)) + job, capture_output=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    size = struct.unpack("!Q", answer.stdout[:8])[0]
    reply = json.loads(answer.stdout[8:8 + size])
    assert reply["record"]["status"] == "parsed" and reply["record"]["source"]["path"] == "good.txt"


# ---------------------------------------------------------------------------------------------- entities, network

def test_controls_the_payloads_are_live(server: tuple[str, list[str]], secret: Path) -> None:
    """The checks below can fail: the server records what reaches it, and an XML parser that resolves entities
    does read the local file through the same payload.  (The libxml2 that lxml bundles here has no HTTP client,
    so no parser setting makes it call the server; a reader that fetched by other means would.)"""
    base, requests = server
    with urllib.request.urlopen(f"{base}/probe", timeout=5) as answer:
        assert answer.read() == b"NETWORK-MARKER-93be"
    assert requests == ["/probe"]
    xhtml = hostile_documents(secret, base)["xhtml"]
    unsafe = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
    assert FILE_SECRET in "".join(etree.fromstring(xhtml, unsafe).itertext())


def test_readers_resolve_no_entity_include_or_link(server: tuple[str, list[str]], secret: Path) -> None:
    base, requests = server
    documents = hostile_documents(secret, base)
    records = {name: parse_bytes(data, name) for name, data in documents.items()}
    jobs = []
    for name, data in documents.items():  # and through the worker processes a run uses
        path = secret.parent / f"{name}.bin"
        path.write_bytes(data)
        jobs.append(ParseJob(path, name, secret.parent))
    records.update({f"worker:{job.path}": record for job, record in parse_files(jobs, workers=2, max_seconds=60)})
    time.sleep(0.5)  # anything fetched in the background would have arrived by now
    assert requests == []
    for name, record in records.items():
        text = json.dumps(record, ensure_ascii=False)
        assert FILE_SECRET not in text and "NETWORK-MARKER" not in text, name
    refused = {"docx_dtd", "docx_dtd_after_comment"}  # a DOCTYPE anywhere in a part's prolog is refused
    for name in refused:
        assert records[name]["reason"] == records[f"worker:{name}"]["reason"] == "corrupt_docx", name
    for name in documents.keys() - refused:  # read through to the end (not refused early): report words only
        for key in (name, f"worker:{name}"):
            assert (records[key]["status"], records[key]["reason"]) == ("partial", "no_standard_tables"), key


# ---------------------------------------------------------------------------------------------- limits

def test_limits_come_from_the_environment_with_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (batch.MAX_BYTES_ENV, batch.MAX_SECONDS_ENV, batch.MAX_MEMORY_ENV):
        monkeypatch.delenv(name, raising=False)
    assert batch.default_max_bytes() == 50 * 1024 * 1024
    assert batch.default_max_seconds() == 120.0
    assert batch.default_max_memory_mb() == 4096
    monkeypatch.setenv(batch.MAX_BYTES_ENV, "1000")
    monkeypatch.setenv(batch.MAX_SECONDS_ENV, "2.5")
    monkeypatch.setenv(batch.MAX_MEMORY_ENV, "512")
    assert (batch.default_max_bytes(), batch.default_max_seconds(), batch.default_max_memory_mb()) == (1000, 2.5, 512)
    from orchestration.resources import resources_from_env

    parsing = resources_from_env("/tmp")["parsing"]
    assert (parsing.max_bytes, parsing.max_seconds_per_file) == (1000, 2.5)
    monkeypatch.setenv(batch.MAX_SECONDS_ENV, "0")
    assert batch.default_max_seconds() is None  # explicitly off
    monkeypatch.setenv(batch.MAX_SECONDS_ENV, "soon")
    with pytest.raises(ValueError, match="GOVREPORTS_MAX_SECONDS_PER_FILE"):
        batch.default_max_seconds()


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slow") / "slow.pdf"
    path.write_bytes(slow_pdf())
    return path


def test_a_file_over_the_time_limit_is_quarantined_and_the_batch_goes_on(
        slow: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(batch.MAX_SECONDS_ENV, "1")
    jobs = [ParseJob(GOOD, "a.txt"), ParseJob(slow, "slow.pdf"), ParseJob(GOOD, "b.txt")]
    started = time.monotonic()
    out = list(parse_files(jobs, workers=1))
    seconds = time.monotonic() - started
    assert [job.path for job, _ in out] == ["a.txt", "slow.pdf", "b.txt"]
    assert [(r["status"], r["reason"]) for _, r in out] == [("parsed", None), ("quarantined", "timeout"),
                                                             ("parsed", None)]
    assert "1 s" in out[1][1]["message"]
    assert seconds < 8, f"{seconds:.1f} s"  # the slow file alone needs several seconds more than the limit
    assert worker_processes() == []  # the stopped worker and the pool are gone


def test_memory_limit_and_a_killed_worker_quarantine_one_file_only(slow: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"  # 40 MB of report text: decoding and reading it needs several times that
    unit = GOOD.read_bytes()
    big.write_bytes(unit * (40_000_000 // len(unit)))
    jobs = [ParseJob(big, "big.txt"), ParseJob(GOOD, "after.txt")]
    capped = list(parse_files(jobs, workers=1, max_bytes=100_000_000, max_seconds=60, max_memory_mb=150))
    assert (capped[0][1]["status"], capped[0][1]["reason"]) == ("quarantined", "out_of_memory")
    assert "GOVREPORTS_MAX_MEMORY_MB" in capped[0][1]["message"]
    assert capped[1][1]["status"] == "parsed"  # on a fresh worker: the one that ran out was retired
    # a worker killed from outside (OOM killer, operator) while it parses: that file only
    jobs = [ParseJob(slow, "slow.pdf"), ParseJob(GOOD, "after.txt")]
    killed: list[int] = []
    stream = parse_files(jobs, workers=1, max_seconds=120, max_memory_mb=None)

    def kill_the_worker() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            for process in worker_processes():
                if process.cpu_times().user > 0.5:  # busy with the slow PDF
                    process.kill()
                    killed.append(process.pid)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    out = list(stream)
    killer.join()
    assert killed
    assert (out[0][1]["reason"], out[1][1]["status"]) == ("worker_crashed", "parsed")
    assert "exit status -9" in out[0][1]["message"]


def test_file_swapped_for_a_symlink_after_the_scan_is_not_followed(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "2020").mkdir(parents=True)
    target = landing / "2020" / "report.txt"
    target.write_bytes(GOOD.read_bytes())
    outside = tmp_path / "outside.txt"
    outside.write_text(secret_report(), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    ingest_year(db, landing, 2020)  # the ledger has the good file's hash
    target.unlink()
    target.symlink_to(outside)  # swapped before the parse
    build_core_year(db, landing, 2020, workers=1)
    with warehouse.session(db) as con:
        row = con.execute("SELECT status, reason FROM ledger.files WHERE path = '2020/report.txt'").fetchone()
        reports = con.execute("SELECT count(*) FROM core.reports").fetchone()[0]
        leaked = con.execute("SELECT count(*) FROM core.sections WHERE contains(text, ?)", [SECRET_MARKER]).fetchone()
    assert row == ("quarantined", "outside_landing") and reports == 0 and leaked == (0,)
