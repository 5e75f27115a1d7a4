"""The bare job of `benchmarks/fanout.py`: an RQ job that does nothing.

The workers import it as `bare_job` (the benchmark puts this folder on their
PYTHONPATH), so what it costs is RQ's and the worker's own work per job.
"""


def nothing() -> None:
    return None
