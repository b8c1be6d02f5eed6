"""Quality alerts end to end: a release corrupted so an expectation fails reaches a real HTTP receiver and a
real SMTP server on loopback (and the JSON Lines file); a release where every expectation holds sends nothing.

Belongs here: ``govreports.alerts`` (alert content, webhook bodies and error handling, SMTP delivery and login,
configuration from the environment, channel isolation).  Not here: which expectations fail on which data
(``tests/test_expectations.py``).  The GX runs are restricted to the ``reports`` suite to stay fast.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from expectations.runner import SuiteResults, run_suites
from govreports.alerts import (
    AlertDeliveryError,
    FanoutNotifier,
    JsonlNotifier,
    SmtpNotifier,
    WebhookNotifier,
    alerts_for_failed_checks,
    dagster_run_url,
    notifier_from_env,
    webhook_format,
)
from govreports.validation import validate
from tests.report_factory import frames_of, series

AGENCIES = [f"告警测试机关{i:02d}" for i in range(12)]
RUN_ID = "3f1c2a9e-run"


# ------------------------------------------------------------------------------------------------ servers
@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours HTTP(S)_PROXY; the receivers here are on loopback."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


class Receiver:
    """A real HTTP server on 127.0.0.1 (port 0) that records every POST and answers ``reply``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.reply: dict[str, Any] = {"ok": True}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(json.loads(self.rfile.read(length).decode("utf-8")))
                outer.headers.append(dict(self.headers))
                payload = json.dumps(outer.reply).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/quality?token=secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


# ------------------------------------------------------------------------------------------------ releases
@pytest.fixture(scope="module")
def frames() -> dict[str, dict[str, pd.DataFrame]]:
    truths = {agency: series(agency, (2021, 2022)) for agency in AGENCIES}
    return {
        "previous": validate(frames_of([truths[a][2021] for a in AGENCIES])).frames,
        "clean": validate(frames_of([truths[a][2022] for a in AGENCIES])).frames,
        "shrunk": validate(frames_of([truths[a][2022] for a in AGENCIES[:3]])).frames,  # most reports dropped
    }


@pytest.fixture(scope="module")
def failing_run(frames: dict[str, dict[str, pd.DataFrame]]) -> SuiteResults:
    return run_suites(frames["shrunk"], 2022, frames["previous"], tables=["reports"])


@pytest.fixture(scope="module")
def passing_run(frames: dict[str, dict[str, pd.DataFrame]]) -> SuiteResults:
    return run_suites(frames["clean"], 2022, frames["previous"], tables=["reports"])


def env_for(receiver: Receiver | None, smtp: Controller | None, **extra: str) -> dict[str, str]:
    env = {"GOVREPORTS_ALERT_RECIPIENTS": "data-team@example.org, lead@example.org",
           "GOVREPORTS_ALERT_FROM": "govreports@example.org", **extra}
    if receiver is not None:
        env["GOVREPORTS_ALERT_WEBHOOK"] = receiver.url
    if smtp is not None:
        env["GOVREPORTS_ALERT_SMTP"] = f"smtp://{smtp.hostname}:{smtp.port}"
    return env


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# ------------------------------------------------------------------------------------------------ end to end
def test_a_failed_expectation_reaches_the_webhook_the_mailbox_and_the_log(
        failing_run: SuiteResults, receiver: Receiver, smtp: tuple[Controller, Mailbox], tmp_path: Path,
        frames: dict[str, dict[str, pd.DataFrame]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVREPORTS_DAGSTER_URL", raising=False)
    controller, mailbox = smtp
    alerts = alerts_for_failed_checks(failing_run, {"year": 2022, "partition": "2022"}, run_id=RUN_ID)
    failed = failing_run.failed
    assert len(alerts) == len(failed) >= 1
    notifier = notifier_from_env(tmp_path, env_for(receiver, controller))
    assert notifier.send_all(alerts) == len(alerts)

    shrink = next(r for r in failed if r.check_name == "row_count_vs_previous")
    previous_reports = len(frames["previous"]["reports"])
    run_url = f"http://127.0.0.1:3000/runs/{RUN_ID}"
    assert len(receiver.bodies) == len(alerts)
    body = next(b for b in receiver.bodies if b["alert"]["check_name"] == "row_count_vs_previous")
    alert = body["alert"]
    assert alert["release"] == {"year": 2022, "partition": "2022"} and alert["table"] == "reports"
    assert alert["observed"] == shrink.observed == len(frames["shrunk"]["reports"])
    assert alert["expected"]["min_value"] == shrink.expected["min_value"]
    assert alert["expected"]["previous"]["previous_value"] == previous_reports
    assert alert["run_url"] == run_url and alert["severity"] == "WARN"
    for needle in ("2022", "reports.row_count_vs_previous", f"Observed: {shrink.observed}",
                   f'"min_value": {shrink.expected["min_value"]}', run_url):
        assert needle in body["text"]
    assert receiver.headers[0]["Content-Type"].startswith("application/json")

    assert len(mailbox.messages) == len(alerts)
    sender, recipients, _message = mailbox.messages[0]
    assert sender == "govreports@example.org"
    assert recipients == ["data-team@example.org", "lead@example.org"]
    mail = next(m for _s, _r, m in mailbox.messages if "row_count_vs_previous" in m["Subject"])
    assert "2022" in mail["Subject"]
    text = mail.get_payload(decode=True).decode("utf-8")
    assert f"Observed: {shrink.observed}" in text and run_url in text

    logged = jsonl(tmp_path / "alerts.jsonl")
    assert [e["check_name"] for e in logged] == [a["check_name"] for a in alerts]
    assert all(e["sent_at"] for e in logged)


def test_nothing_is_sent_when_every_expectation_holds(passing_run: SuiteResults, receiver: Receiver,
                                                      smtp: tuple[Controller, Mailbox], tmp_path: Path) -> None:
    controller, mailbox = smtp
    assert passing_run.failed == [] and len(passing_run.results) > 10
    alerts = alerts_for_failed_checks(passing_run, 2022, run_id=RUN_ID)
    assert alerts == []
    notifier_from_env(tmp_path, env_for(receiver, controller)).send_all(alerts)
    assert receiver.bodies == [] and mailbox.messages == []
    assert not (tmp_path / "alerts.jsonl").exists()


def test_alerts_from_check_dicts_equal_alerts_from_results(failing_run: SuiteResults) -> None:
    """What the Dagster side has after a run (the check results' JSON metadata) gives the same alerts."""
    dicts = json.loads(json.dumps(failing_run.check_results()))
    from_dicts = alerts_for_failed_checks(dicts, "2022", "http://dagster.example/runs/x")
    from_results = alerts_for_failed_checks(failing_run, "2022", "http://dagster.example/runs/x")

    def strip(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in a.items() if k != "created"} for a in alerts]

    assert strip(from_dicts) == strip(from_results) and from_dicts
    assert from_dicts[0]["release"] == {"year": 2022, "partition": "2022"}


# ------------------------------------------------------------------------------------------------ channels
def test_a_failing_channel_does_not_stop_the_others(smtp: tuple[Controller, Mailbox], tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    controller, mailbox = smtp
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    notifier = notifier_from_env(tmp_path, {"GOVREPORTS_ALERT_WEBHOOK": dead,
                                            "GOVREPORTS_ALERT_SMTP": f"smtp://127.0.0.1:{controller.port}",
                                            "GOVREPORTS_ALERT_RECIPIENTS": "ops@example.org"})
    alert = {"kind": "expectation_failed", "release": {"year": 2023}, "table": "reports", "check_name": "x",
             "severity": "ERROR", "observed": 1, "expected": {"min_value": 2}}
    with caplog.at_level(logging.ERROR, logger="govreports.alerts"):
        notifier.send(alert)
    assert any("webhook" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records)
    assert len(mailbox.messages) == 1
    assert jsonl(tmp_path / "alerts.jsonl")[0]["check_name"] == "x"
    with pytest.raises(AlertDeliveryError):
        WebhookNotifier(dead, timeout=2).deliver(alert)


def test_dingtalk_and_feishu_bodies_and_their_error_codes(receiver: Receiver,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    alert = {"release": {"year": 2022}, "table": "applications", "check_name": "codes_per_template",
             "severity": "ERROR", "observed": {"partial_unexpected_list": ["other_processing"]},
             "expected": {"value_set": ["new_received"]}}
    WebhookNotifier(receiver.url, fmt="dingtalk").deliver(alert)
    WebhookNotifier(receiver.url, fmt="feishu").deliver(alert)
    dingtalk, feishu = receiver.bodies
    assert dingtalk["msgtype"] == "text" and "codes_per_template" in dingtalk["text"]["content"]
    assert feishu["msg_type"] == "text" and "other_processing" in feishu["content"]["text"]
    receiver.reply = {"errcode": 310000, "errmsg": "keywords not in content"}  # DingTalk refuses with HTTP 200
    with pytest.raises(AlertDeliveryError, match="310000"):
        WebhookNotifier(receiver.url, fmt="dingtalk").deliver(alert)
    receiver.reply, receiver.status = {"ok": False}, 500
    with caplog.at_level(logging.ERROR, logger="govreports.alerts"):
        WebhookNotifier(receiver.url).send(alert)  # logged, not raised
    assert any("HTTP 500" in r.getMessage() and "secret" not in r.getMessage() for r in caplog.records)
    assert webhook_format("https://oapi.dingtalk.com/robot/send?access_token=t") == "dingtalk"
    assert webhook_format("https://open.feishu.cn/open-apis/bot/v2/hook/x") == "feishu"
    assert webhook_format("https://hooks.slack.com/services/x") == "slack"
    assert webhook_format(receiver.url) == "generic"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
def test_smtp_login_from_the_url() -> None:
    mailbox = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"p@ss word")
        return AuthResult(success=ok)

    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        good = SmtpNotifier(f"smtp://alerts:p%40ss%20word@127.0.0.1:{controller.port}", ["ops@example.org"])
        good.deliver({"release": {"year": 2022}, "table": "reports", "check_name": "completeness"})
        assert len(mailbox.messages) == 1 and "completeness" in mailbox.messages[0][2]["Subject"]
        # (after a refused PLAIN login smtplib tries LOGIN, which aiosmtpd leaves hanging: a short timeout)
        bad = SmtpNotifier(f"smtp://alerts:wrong@127.0.0.1:{controller.port}", ["ops@example.org"], timeout=1)
        with pytest.raises(AlertDeliveryError):
            bad.deliver({"check_name": "completeness"})
        anonymous = SmtpNotifier(f"smtp://127.0.0.1:{controller.port}", ["ops@example.org"])
        with pytest.raises(AlertDeliveryError):  # the server requires a login
            anonymous.deliver({"check_name": "completeness"})
        assert len(mailbox.messages) == 1
    finally:
        controller.stop()


def test_configuration_from_the_environment(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    only_file = notifier_from_env(tmp_path, {})
    assert [type(c) for c in only_file.channels] == [JsonlNotifier]
    with caplog.at_level(logging.ERROR, logger="govreports.alerts"):
        no_recipients = notifier_from_env(tmp_path, {"GOVREPORTS_ALERT_SMTP": "smtp://127.0.0.1:2525"})
    assert [type(c) for c in no_recipients.channels] == [JsonlNotifier]
    assert any("GOVREPORTS_ALERT_RECIPIENTS" in r.getMessage() for r in caplog.records)
    full = notifier_from_env(tmp_path, {"GOVREPORTS_ALERT_WEBHOOK": "https://oapi.dingtalk.com/robot/send?t=1",
                                        "GOVREPORTS_ALERT_SMTP": "smtps://u:p@mail.example.org?starttls=false",
                                        "GOVREPORTS_ALERT_RECIPIENTS": "a@example.org;b@example.org"})
    webhook, mail = full.channels[1], full.channels[2]
    assert isinstance(webhook, WebhookNotifier) and webhook.format == "dingtalk"
    assert isinstance(mail, SmtpNotifier) and (mail.ssl, mail.port, mail.username) == (True, 465, "u")
    assert mail.recipients == ["a@example.org", "b@example.org"]
    assert isinstance(FanoutNotifier([]), FanoutNotifier)
    monkeypatch.setenv("GOVREPORTS_DAGSTER_URL", "https://dagster.example.org/")
    assert dagster_run_url("abc") == "https://dagster.example.org/runs/abc"
    assert dagster_run_url(None) is None
