"""The ``govreports`` command line.

``parse`` is pure core (no orchestration import).  The pipeline commands (``run``, ``ledger``,
``fetch-release``) import their modules lazily so that parsing stays fast and Dagster-free.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from govreports.parser import parse_path
from govreports.readers.manifest import is_manifest


def iter_inputs(paths: Sequence[str]) -> Iterator[Path]:
    """Files named, and every file under directories named (sorted, hidden files and manifests skipped)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts)
                        and not is_manifest(child)):  # a manifest describes the files; parse_path applies it
                    yield child
        else:
            yield path


def _parse_command(args: argparse.Namespace) -> int:
    out = sys.stdout
    for path in iter_inputs(args.paths):
        record = parse_path(path, max_bytes=args.max_bytes)
        out.write(json.dumps(record, ensure_ascii=False, indent=2 if args.pretty else None))
        out.write("\n")
    out.flush()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govreports", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="parse report files and print JSON Lines (CONTRACT.md)")
    parse.add_argument("paths", nargs="+", help="files or directories")
    parse.add_argument("--pretty", action="store_true", help="indent the JSON")
    parse.add_argument("--max-bytes", type=int, default=int(os.environ.get("GOVREPORTS_MAX_BYTES", 50 * 1024 * 1024)),
                       help="files larger than this are quarantined as too_large")
    parse.set_defaults(handler=_parse_command)

    try:
        from govreports import pipeline_cli
    except ImportError:  # the pipeline extras are not installed: parsing still works
        pipeline_cli = None
    if pipeline_cli is not None:
        pipeline_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `govreports parse … | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
