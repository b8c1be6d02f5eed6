"""Where the pipeline keeps its files: one data directory and the fixed layout beneath it.

Belongs here: resolving the data directory (``--data-dir`` > ``GOVREPORTS_DATA_DIR`` > ``./data``) and naming
the landing folder, the DuckDB warehouse, the Dagster home, the releases folder and the alerts log.  Nothing here
creates data or imports orchestration code; ``ensure`` only makes the folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "./data"
DATA_DIR_ENV = "GOVREPORTS_DATA_DIR"


def resolve_data_dir(value: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: an explicit value, else ``$GOVREPORTS_DATA_DIR``, else ``./data`` (made absolute)."""
    chosen = value if value not in (None, "") else os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class DataPaths:
    """The layout under one data directory."""

    root: Path

    @classmethod
    def resolve(cls, value: str | os.PathLike[str] | None = None) -> DataPaths:
        return cls(resolve_data_dir(value))

    @property
    def landing(self) -> Path:
        """Raw reports as delivered: ``landing/<year>/…``; files outside a year folder get the report's own year."""
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        """The single DuckDB file (schemas ``ledger``, ``core``, ``out``)."""
        return self.root / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        """``DAGSTER_HOME``: the SQLite-backed Dagster instance shared by the UI and ``govreports run``."""
        return self.root / "dagster_home"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def alerts(self) -> Path:
        """JSON Lines log written by the default notifier."""
        return self.root / "alerts.jsonl"

    def ensure(self) -> DataPaths:
        for folder in (self.root, self.landing, self.dagster_home, self.releases):
            folder.mkdir(parents=True, exist_ok=True)
        return self
