"""Release commands for the ``govreports`` command line: ``fetch-release``.

What belongs here: argument parsing and printing for the consumer-side release commands; the work is done by
``datapackage.loader``.  What does not: the top-level parser (``govreports.cli`` calls ``register``), publishing
(done by the pipeline's release asset) or any validation logic.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from datapackage.loader import ReleaseCorrupted, ReleaseNotFound, fetch_release, snippets


def _fetch_release_command(args: argparse.Namespace) -> int:
    try:
        target = fetch_release(Path(args.releases), args.year, Path(args.dest), args.version)
    except (ReleaseNotFound, ReleaseCorrupted) as exc:
        print(f"fetch-release: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fetch-release: cannot copy the release: {exc}", file=sys.stderr)
        return 1
    out = sys.stdout
    out.write(f"{target}\n")
    for label, line in snippets(target, args.table).items():
        out.write(f"{label}: {line}\n")
    out.flush()
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the release commands to the ``govreports`` subcommands."""
    fetch = commands.add_parser(
        "fetch-release",
        help="copy a published release (hashes verified) and print how to load it",
        description="Copy releases/<year>/<version> to DEST/<year>/<version> after checking every file against "
                    "the hash and bytes in its datapackage.json, then print one line each to load it with "
                    "frictionless, pandas and DuckDB.",
    )
    fetch.add_argument("--releases", required=True, help="the releases folder (holds <year>/<version>/)")
    fetch.add_argument("--year", required=True, type=int, help="report year")
    fetch.add_argument("--version", default="latest", help="semantic version, or latest (default)")
    fetch.add_argument("--dest", required=True, help="where to copy the release")
    fetch.add_argument("--table", default="applications", help="table used in the printed snippets")
    fetch.set_defaults(handler=_fetch_release_command)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m datapackage.cli fetch-release ...``) until the lead wires ``register``."""
    parser = argparse.ArgumentParser(prog="govreports")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
