"""Data-quality expectations of every yearly release: suite files, their Great Expectations runner, and the
shapes handed to Dagster asset checks and alerts.

What belongs here: ``suites/*.yaml`` (one suite per published table, edited without touching Python — see
``README.md``), reading them (``suite_files``), the batches they run on (``batches``) and running them with GX Core
1.x (``runner``).  What does not: Dagster definitions (``assets/``, ``orchestration/`` wrap the functions below),
sending alerts (``govreports.alerts``), the rules or schemas themselves (``govreports``).

Importing this package does not import Great Expectations (slow); ``run_suites`` imports it on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations.suite_files import CheckSpec, SuiteFileError, list_checks, load_suites, suites_dir

if TYPE_CHECKING:
    from expectations.runner import SuiteResults


def run_suites(frames: Any, year: int, previous: Any = None, data_docs_dir: Any = None, **options: Any
               ) -> SuiteResults:
    """See ``expectations.runner.run_suites`` (imported lazily: GX takes seconds to import)."""
    from expectations.runner import run_suites as run

    return run(frames, year, previous, data_docs_dir, **options)


def asset_check_results(results: SuiteResults) -> list[dict[str, Any]]:
    """See ``expectations.runner.asset_check_results``."""
    from expectations.runner import asset_check_results as shape

    return shape(results)


__all__ = ["CheckSpec", "SuiteFileError", "asset_check_results", "list_checks", "load_suites", "run_suites",
           "suites_dir"]
