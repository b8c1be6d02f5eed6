"""Published releases: versioned, immutable, validated Frictionless data packages of the report tables.

What belongs in this package: turning the typed tables (``govreports.frames``) into a release folder
(``publish``), the ``datapackage.json`` generated from the column model (``descriptor``, ``codelists``),
deterministic CSV/Parquet files (``serialize``), release diffs (``diff``), the DuckDB warehouse load
(``warehouse``) and the consumer side (``loader``, ``cli``).  What does not: parsing, validation of report
arithmetic, or the column model itself (``govreports.columns`` is the one source of every schema).
"""

from datapackage.publish import PublishError, Release, publish_release

__all__ = ["PublishError", "Release", "publish_release"]
