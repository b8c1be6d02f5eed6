"""Resources injected into assets, checks and sensors, configured by environment with embedded defaults.

Belongs here: the data directory (``GOVREPORTS_DATA_DIR``, default ``./data``) and the folders under it, the
parsing limits (``GOVREPORTS_WORKERS``, ``GOVREPORTS_MAX_BYTES``, ``GOVREPORTS_MAX_SECONDS_PER_FILE``; the
memory per worker, ``GOVREPORTS_MAX_MEMORY_MB``, is read by ``govreports.batch``), and the notifier.  ``resources_from_env``
builds the set used by ``orchestration.definitions``; swap one entry there to change an environment.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, get_dagster_logger

from govreports.alerts import FanoutNotifier, notifier_from_env
from govreports.batch import DEFAULT_MAX_SECONDS, default_max_bytes, default_max_seconds, default_workers
from govreports.parser import DEFAULT_MAX_BYTES
from govreports.paths import DataPaths


class PathsResource(ConfigurableResource):
    """The data directory: ``landing/``, ``warehouse.duckdb``, ``dagster_home/``, ``releases/``, ``alerts.jsonl``."""

    data_dir: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths.resolve(self.data_dir)

    @property
    def landing(self) -> Path:
        return self.paths.landing

    @property
    def warehouse(self) -> Path:
        return self.paths.warehouse

    @property
    def releases(self) -> Path:
        return self.paths.releases


class ParsingResource(ConfigurableResource):
    """How a year's files are parsed: worker processes, the size above which a file is quarantined
    (``too_large``), and the seconds a file may take before its worker is stopped (``timeout``; 0: no limit)."""

    workers: int = 2
    max_bytes: int = DEFAULT_MAX_BYTES
    max_seconds_per_file: float = DEFAULT_MAX_SECONDS


class NotifierResource(ConfigurableResource):
    """Sends alerts through ``govreports.alerts.notifier_from_env``: always appended to ``alerts_path`` (JSON
    Lines) and logged; also a webhook (``GOVREPORTS_ALERT_WEBHOOK``) and e-mail (``GOVREPORTS_ALERT_SMTP`` +
    ``GOVREPORTS_ALERT_RECIPIENTS``) when configured.  A failing channel is logged, never raised."""

    alerts_path: str

    def _notifier(self) -> FanoutNotifier:
        return notifier_from_env(Path(self.alerts_path).parent)

    def send(self, alert: dict[str, Any]) -> None:
        entry = {"sent_at": datetime.now(UTC).isoformat(timespec="seconds"), **alert}
        get_dagster_logger().warning("govreports alert: %s", json.dumps(entry, ensure_ascii=False, default=str))
        self._notifier().send(entry)

    def send_all(self, alerts: list[dict[str, Any]]) -> int:
        for alert in alerts:
            self.send(alert)
        return len(alerts)


def resources_from_env(data_dir: str | os.PathLike[str] | None = None) -> dict[str, ConfigurableResource]:
    paths = DataPaths.resolve(data_dir)
    return {
        "paths": PathsResource(data_dir=str(paths.root)),
        "parsing": ParsingResource(
            workers=default_workers(),
            max_bytes=default_max_bytes(),
            max_seconds_per_file=default_max_seconds() or 0.0,
        ),
        "notifier": NotifierResource(alerts_path=str(paths.alerts)),
    }
