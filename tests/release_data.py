"""Shared ground for the release tests: the 2020 fixture reports as frames, fixed publication times, and the
environment for subprocesses that must import the repo's packages."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from govreports.frames import records_to_frames
from govreports.parser import parse_path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fixtures" / "corpus"
YEAR = 2020
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def fixture_frames() -> dict[str, pd.DataFrame]:
    """Tables of the real 2020 text reports in tests/fixtures/corpus/dev."""
    return records_to_frames(parse_path(p) for p in sorted(CORPUS.glob("dev/*_2020.txt")))
