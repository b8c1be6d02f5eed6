"""Dagster assets: thin wrappers over ``govreports`` that turn its results into materializations and metadata.

Layers as in PUDL: ``raw_reports`` (files in the landing folder, recorded in the ledger) → ``core_<table>``
(parsed, validated tables in DuckDB schema ``core``) → ``out_<table>_wide`` and ``out_release``.  Every asset is
partitioned by report year (dynamic partitions named ``report_year``).
"""
