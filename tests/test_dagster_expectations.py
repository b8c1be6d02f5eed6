"""Expectations as Dagster asset checks, end to end through `govreports run`: a failing blocking expectation
stops the release and alerts a real webhook receiver on loopback; with the suites as shipped, the release is
published with its expectation results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from expectations import suites_dir
from tests.pipeline_data import lay_landing

pytestmark = pytest.mark.slow
LAYOUT = {"2020/pingtan_qu_2020.txt": "dev/pingtan_qu_2020.txt", "2020/putian_sjj_2020.txt": "dev/putian_sjj_2020.txt"}


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> str:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def _run(root: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_HOME", "GOVREPORTS_"))}
    env.update(extra_env)
    return subprocess.run([sys.executable, "-m", "govreports", "run", "--data-dir", str(root), "--years", "2020"],
                          capture_output=True, text=True, timeout=600, env=env)


def test_blocking_expectation_stops_the_release_and_alerts(tmp_path: Path, receiver: str) -> None:
    root = tmp_path / "data"
    lay_landing(root / "landing", LAYOUT)
    strict = tmp_path / "suites"
    shutil.copytree(suites_dir(), strict)
    suite = yaml.safe_load((strict / "reports.yaml").read_text(encoding="utf-8"))
    for entry in suite["expectations"]:
        if entry.get("check") == "not_empty":
            entry["kwargs"]["min_value"] = 1000  # a year needs 1000 reports: this one has 2
    (strict / "reports.yaml").write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")

    failed = _run(root, {"GOVREPORTS_EXPECTATIONS_DIR": str(strict), "GOVREPORTS_ALERT_WEBHOOK": receiver})
    assert "2020: success" not in failed.stdout, failed.stdout
    assert not (root / "releases" / "2020").exists()  # the blocking check stopped out_release
    checks = [a for a in _Receiver.received if "not_empty" in json.dumps(a, ensure_ascii=False)]
    assert checks, _Receiver.received
    logged = [json.loads(line) for line in (root / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    not_empty = [a for a in logged if a.get("check_name") == "not_empty"]
    assert not_empty and not_empty[0]["release"]["year"] == 2020 and not_empty[0]["run_url"].startswith("http")

    _Receiver.received = []
    passed = _run(root, {"GOVREPORTS_ALERT_WEBHOOK": receiver})
    assert "2020: success" in passed.stdout, passed.stdout + passed.stderr
    release = root / "releases" / "2020" / "1.0.0"
    results = json.loads((release / "expectations.json").read_text(encoding="utf-8"))
    assert results["year"] == 2020 and results["releasable"] is True and results["previous_year"] is None
    assert {c["check_name"] for c in results["checks"]} >= {"not_empty", "unique_key", "allowed_codes"}
    assert not [a for a in _Receiver.received if a.get("blocking")]
