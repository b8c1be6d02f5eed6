"""The Dagster instance under ``<data dir>/dagster_home``: SQLite storage, one run at a time.

Belongs here: writing ``dagster.yaml`` (only when absent, so local edits survive) and opening the instance that
the UI (``DAGSTER_HOME=<data dir>/dagster_home dagster dev``) and ``govreports run`` share.
"""

import os
from pathlib import Path

from dagster import DagsterInstance

from govreports.paths import DataPaths

DAGSTER_YAML = """\
# Written by govreports (orchestration/instance.py); edit freely, it is not overwritten.
# Storage: SQLite files in this folder (the default for a local DAGSTER_HOME).
telemetry:
  enabled: false
concurrency:
  runs:
    # Every run writes the one DuckDB file, which takes one writer: runs launched from the UI, backfills, the
    # sensor and the schedule queue and start one at a time.  (`govreports run` executes in-process; the
    # warehouse file lock serialises it with anything else.)
    max_concurrent_runs: 1
"""


def ensure_dagster_home(paths: DataPaths) -> Path:
    home = paths.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def open_instance(paths: DataPaths) -> DagsterInstance:
    """The persistent instance in ``paths.dagster_home``; also sets ``DAGSTER_HOME`` for this process."""
    home = ensure_dagster_home(paths)
    os.environ["DAGSTER_HOME"] = str(home)
    return DagsterInstance.from_config(str(home))
