"""Dagster wiring for govreports: resources, jobs, sensors, schedules and the one ``Definitions`` object.

Assets live in ``assets/``; the pure pipeline logic in ``govreports``.  ``orchestration.definitions.defs`` is
what ``workspace.yaml`` loads.
"""
