"""Quality alerts: what an alert says, and the channels that deliver it (JSON Lines file, webhook, e-mail).

What belongs here: the ``Notifier`` protocol; ``JsonlNotifier`` (the embedded default: one JSON line per alert
in ``<data dir>/alerts.jsonl``, and the log), ``WebhookNotifier`` (JSON POST with ``urllib``; bodies for generic
receivers and Slack/Teams, DingTalk and Feishu incoming webhooks), ``SmtpNotifier`` (``smtplib``; ``smtp://`` or
``smtps://`` URL with optional login and STARTTLS), ``FanoutNotifier`` (every channel, each one isolated);
``notifier_from_env`` (``GOVREPORTS_ALERT_WEBHOOK``, ``GOVREPORTS_ALERT_SMTP``, ``GOVREPORTS_ALERT_RECIPIENTS``,
``GOVREPORTS_ALERT_FROM``); and ``alerts_for_failed_checks``, which turns failed expectation checks into alerts
naming the release, the expectation, observed vs expected and a link to the run (``GOVREPORTS_DAGSTER_URL``).

What does not: deciding what failed (``expectations``), Dagster sensors or resources (``orchestration`` wraps
these), Great Expectations or pandas — this module imports only the standard library.

Delivery never raises to the caller: ``send`` logs a failed delivery and returns; ``deliver`` is the raising
variant for callers that want to know.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("govreports.alerts")

WEBHOOK_ENV = "GOVREPORTS_ALERT_WEBHOOK"
WEBHOOK_FORMAT_ENV = "GOVREPORTS_ALERT_WEBHOOK_FORMAT"
SMTP_ENV = "GOVREPORTS_ALERT_SMTP"
RECIPIENTS_ENV = "GOVREPORTS_ALERT_RECIPIENTS"
FROM_ENV = "GOVREPORTS_ALERT_FROM"
DAGSTER_URL_ENV = "GOVREPORTS_DAGSTER_URL"
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
ALERTS_FILE = "alerts.jsonl"
DEFAULT_TIMEOUT = 10.0
WEBHOOK_FORMATS = ("generic", "slack", "teams", "dingtalk", "feishu")


class AlertDeliveryError(RuntimeError):
    """One channel could not deliver an alert."""


@runtime_checkable
class Notifier(Protocol):
    """Delivers an alert (a JSON-serialisable dict); never raises."""

    def send(self, alert: dict[str, Any]) -> None: ...


# ---------------------------------------------------------------------------------------------- text
def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def release_label(release: Mapping[str, Any] | None) -> str:
    if not release:
        return "release ?"
    parts = [str(release.get("year") or release.get("partition") or "?")]
    if release.get("version"):
        parts.append(f"v{release['version']}")
    return "release " + " ".join(parts)


def alert_text(alert: Mapping[str, Any]) -> str:
    """One human-readable paragraph: what failed where, observed vs expected, and the run link."""
    if alert.get("text"):
        return str(alert["text"])
    lines = [f"[govreports] {alert.get('severity', 'WARN')} {release_label(alert.get('release'))}: "
             f"{alert.get('table', '?')}.{alert.get('check_name', '?')} failed"]
    if alert.get("description"):
        lines.append(f"Expectation: {alert['description']} ({alert.get('expectation_type', '')})")
    if "observed" in alert or "expected" in alert:
        lines.append(f"Observed: {_short(alert.get('observed'))}")
        lines.append(f"Expected: {_short(alert.get('expected'))}")
    if alert.get("message"):
        lines.append(str(alert["message"]))
    if alert.get("run_url"):
        lines.append(f"Run: {alert['run_url']}")
    return "\n".join(lines)


def alert_subject(alert: Mapping[str, Any]) -> str:
    return alert_text(alert).splitlines()[0][:200]


# ---------------------------------------------------------------------------------------------- alerts
def dagster_run_url(run_id: str | None, base: str | None = None) -> str | None:
    """The Dagster UI page of a run: ``$GOVREPORTS_DAGSTER_URL`` (default http://127.0.0.1:3000) + /runs/<id>."""
    if not run_id:
        return None
    base = base or os.environ.get(DAGSTER_URL_ENV) or DEFAULT_DAGSTER_URL
    return f"{base.rstrip('/')}/runs/{run_id}"


def _release(release: Mapping[str, Any] | int | str | None) -> dict[str, Any]:
    if release is None:
        return {}
    if isinstance(release, Mapping):
        out = dict(release)
        if "year" not in out and str(out.get("partition", "")).isdigit():
            out["year"] = int(out["partition"])
        return out
    text = str(release)
    return {"year": int(text), "partition": text} if text.isdigit() else {"partition": text}


def _check_dicts(results: Any) -> list[Mapping[str, Any]]:
    """Check results as dicts: from anything with a ``check_results()`` method (``expectations``'
    ``SuiteResults``), or an iterable of such dicts already."""
    if hasattr(results, "check_results"):
        return list(results.check_results())
    return list(results)


def alerts_for_failed_checks(results: Any, release: Mapping[str, Any] | int | str | None,
                             run_url: str | None = None, *, run_id: str | None = None) -> list[dict[str, Any]]:
    """One alert per failed expectation of every failed check (a failed check without expectation details gives
    one alert for the check).  ``results``: an ``expectations`` ``SuiteResults`` or the check dicts of
    ``expectations.asset_check_results`` (``check_name``, ``passed``, ``severity``, ``metadata.failures``).
    ``release``: ``{"year", "version", "partition"}`` or just the year/partition.  ``run_url``: link to the run
    (default: ``dagster_run_url(run_id)``)."""
    release_info = _release(release)
    link = run_url or dagster_run_url(run_id)
    alerts: list[dict[str, Any]] = []
    for check in _check_dicts(results):
        if check.get("passed", True):
            continue
        metadata = check.get("metadata") or {}
        base = {
            "kind": "expectation_failed",
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "release": release_info,
            "table": check.get("table"),
            "check_name": check.get("check_name"),
            "severity": check.get("severity", "WARN"),
            "blocking": bool(check.get("blocking", check.get("severity") == "ERROR")),
            "suite": metadata.get("suite"),
            "suite_version": metadata.get("suite_version"),
            "run_id": run_id,
            "run_url": link,
            "data_docs": metadata.get("data_docs"),
        }
        failures = metadata.get("failures") or [{}]
        for failure in failures:
            alert = {**base, "description": failure.get("description") or check.get("description"),
                     "expectation_type": failure.get("expectation_type"), "column": failure.get("column"),
                     "where": failure.get("where"), "observed": failure.get("observed"),
                     "expected": failure.get("expected"), "status": failure.get("status", "failed")}
            alert["text"] = alert_text({k: v for k, v in alert.items() if k != "text"})
            alerts.append(alert)
    return alerts


# ---------------------------------------------------------------------------------------------- channels
class _Channel:
    """``send`` = ``deliver`` with failures logged instead of raised."""

    name = "channel"

    def deliver(self, alert: dict[str, Any]) -> None:
        raise NotImplementedError

    def send(self, alert: dict[str, Any]) -> None:
        try:
            self.deliver(alert)
        except Exception as exc:  # noqa: BLE001 — a failing channel must never break the caller
            log.error("govreports alert not delivered via %s: %s", self.name, exc)


class JsonlNotifier(_Channel):
    """Appends each alert as one JSON line (with ``sent_at``) to ``path`` and logs it."""

    name = "jsonl"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def deliver(self, alert: dict[str, Any]) -> None:
        entry = {"sent_at": datetime.now(UTC).isoformat(timespec="seconds"), **alert}
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # concurrent runs append whole lines
            handle.write(line)
            handle.flush()
        log.warning("govreports alert: %s", alert_text(alert))


def webhook_format(url: str) -> str:
    """The body format a webhook URL expects, from its host (``generic`` when unknown)."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith("dingtalk.com"):
        return "dingtalk"
    if host.endswith(("feishu.cn", "larksuite.com", "larkoffice.com")):
        return "feishu"
    if host.endswith("slack.com"):
        return "slack"
    if host.endswith(("office.com", "office365.com", "logic.azure.com")):
        return "teams"
    return "generic"


def webhook_body(alert: dict[str, Any], fmt: str = "generic") -> dict[str, Any]:
    """The JSON body for a receiver.  ``generic``/``slack``/``teams``: ``{"text": …}`` plus the structured alert
    under ``alert`` (Slack and Teams incoming webhooks display ``text`` and ignore the rest); ``dingtalk``:
    ``{"msgtype": "text", "text": {"content": …}}``; ``feishu``: ``{"msg_type": "text", "content": {"text": …}}``
    (both carry the alert as JSON in the text, since they accept no extra fields)."""
    text = alert_text(alert)
    if fmt == "dingtalk":
        return {"msgtype": "text", "text": {"content": text}}
    if fmt == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    return {"text": text, "alert": alert}


class WebhookNotifier(_Channel):
    """POSTs the alert as JSON to ``url``; a non-2xx status, a timeout, or a DingTalk/Feishu error code in the
    response is a failed delivery."""

    name = "webhook"

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, fmt: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"webhook URL must be http(s): {url!r}")
        self.url = url
        self.timeout = timeout
        self.format = fmt or webhook_format(url)
        if self.format not in WEBHOOK_FORMATS:
            raise ValueError(f"unknown webhook format {self.format!r} (known: {', '.join(WEBHOOK_FORMATS)})")
        self.headers = dict(headers or {})

    def deliver(self, alert: dict[str, Any]) -> None:
        body = json.dumps(webhook_body(alert, self.format), ensure_ascii=False, default=str).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "govreports-alerts", **self.headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # http(s) only (checked in __init__)
                status = response.status
                reply = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise AlertDeliveryError(f"{_redact(self.url)} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise AlertDeliveryError(f"{_redact(self.url)}: {exc}") from exc
        if not 200 <= status < 300:
            raise AlertDeliveryError(f"{_redact(self.url)} answered HTTP {status}")
        _raise_for_app_error(self.url, reply)


def _raise_for_app_error(url: str, reply: bytes) -> None:
    """DingTalk (``errcode``) and Feishu (``code``/``StatusCode``) report failures with HTTP 200."""
    try:
        data = json.loads(reply.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        return
    if not isinstance(data, dict):
        return
    for key in ("errcode", "code", "StatusCode"):
        if key in data and data[key] not in (0, "0", None):
            message = data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or ""
            raise AlertDeliveryError(f"{_redact(url)} rejected the alert: {key}={data[key]} {message}".strip())


def _redact(url: str) -> str:
    """A URL without query string or credentials (webhook tokens live there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" + ("?…" if parts.query else "")


class SmtpNotifier(_Channel):
    """Mails the alert (plain text, the structured alert as JSON below it) to ``recipients``.

    ``url``: ``smtp://[user:password@]host[:port][?starttls=true]`` (port 25 by default) or
    ``smtps://…`` (implicit TLS, port 465); a user in the URL logs in (after STARTTLS when asked)."""

    name = "smtp"

    def __init__(self, url: str, recipients: Sequence[str], sender: str | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP URL must look like smtp://host:port: {url!r}")
        recipients = [r.strip() for r in recipients if r and r.strip()]
        if not recipients:
            raise ValueError("no alert recipients")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        self.host = parts.hostname
        self.ssl = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.ssl else 25)
        self.starttls = query.get("starttls", "false") in ("1", "true", "yes")
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.recipients = recipients
        self.sender = sender or f"govreports@{socket.getfqdn() or 'localhost'}"
        self.timeout = timeout

    def message(self, alert: dict[str, Any]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = alert_subject(alert)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="govreports")
        details = json.dumps(alert, ensure_ascii=False, indent=2, default=str)
        message.set_content(f"{alert_text(alert)}\n\n-- alert --\n{details}\n", charset="utf-8")
        return message

    def deliver(self, alert: dict[str, Any]) -> None:
        try:
            if self.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(self.message(alert), from_addr=self.sender, to_addrs=self.recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(f"smtp://{self.host}:{self.port}: {exc}") from exc
        if refused:
            log.error("govreports alert refused for recipients %s", sorted(refused))


class FanoutNotifier:
    """Sends every alert through every channel; one failing channel does not stop the others."""

    def __init__(self, channels: Iterable[Notifier]) -> None:
        self.channels = list(channels)

    def send(self, alert: dict[str, Any]) -> None:
        for channel in self.channels:
            try:
                channel.send(alert)
            except Exception as exc:  # noqa: BLE001 — channels should not raise; a foreign one might
                log.error("govreports alert channel %r failed: %s", channel, exc)

    def send_all(self, alerts: Iterable[dict[str, Any]]) -> int:
        count = 0
        for alert in alerts:
            self.send(alert)
            count += 1
        return count


def notifier_from_env(data_dir: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> FanoutNotifier:
    """The JSON Lines file ``<data_dir>/alerts.jsonl`` (always), plus a webhook when
    ``GOVREPORTS_ALERT_WEBHOOK`` is set (format from the host, or ``GOVREPORTS_ALERT_WEBHOOK_FORMAT``), plus e-mail
    when ``GOVREPORTS_ALERT_SMTP`` and ``GOVREPORTS_ALERT_RECIPIENTS`` (comma-separated) are set
    (sender ``GOVREPORTS_ALERT_FROM``).  A channel that is misconfigured is logged and left out."""
    env = os.environ if env is None else env
    channels: list[Notifier] = [JsonlNotifier(Path(data_dir) / ALERTS_FILE)]
    webhook = (env.get(WEBHOOK_ENV) or "").strip()
    if webhook:
        try:
            channels.append(WebhookNotifier(webhook, fmt=(env.get(WEBHOOK_FORMAT_ENV) or None)))
        except ValueError as exc:
            log.error("%s ignored: %s", WEBHOOK_ENV, exc)
    smtp = (env.get(SMTP_ENV) or "").strip()
    if smtp:
        recipients = [r for r in (env.get(RECIPIENTS_ENV) or "").replace(";", ",").split(",") if r.strip()]
        try:
            channels.append(SmtpNotifier(smtp, recipients, (env.get(FROM_ENV) or "").strip() or None))
        except ValueError as exc:
            log.error("%s ignored: %s (set %s)", SMTP_ENV, exc, RECIPIENTS_ENV)
    return FanoutNotifier(channels)


__all__ = ["AlertDeliveryError", "FanoutNotifier", "JsonlNotifier", "Notifier", "SmtpNotifier", "WebhookNotifier",
           "alert_text", "alerts_for_failed_checks", "dagster_run_url", "notifier_from_env", "webhook_body",
           "webhook_format"]
