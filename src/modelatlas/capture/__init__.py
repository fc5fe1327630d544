"""Automatic capture at training time: ``with capture(namespace, model) as run:`` records
the code, environment, hardware, command line, seeds, datasets, parameters and metrics of a
training run, then registers the model version with every link in one request (or records
a failed run), spooling to disk when the registry cannot be reached. See docs/capture.md.

This package sits above the SDK (:class:`modelatlas.client.Client`, local or HTTP) and
below the CLI.
"""

from __future__ import annotations

from pathlib import Path

from modelatlas.capture._run import Capture, Run, capture
from modelatlas.capture._spool import FlushReport, Spool
from modelatlas.client import Client
from modelatlas.config import Settings

__all__ = ["Capture", "FlushReport", "Run", "Spool", "capture", "flush", "spool_for"]


def spool_for(settings: Settings | None = None) -> Spool:
    """The spool of a registry home: ``<MODELATLAS_HOME>/spool/``."""
    return Spool(Path((settings or Settings()).home) / "spool")


def flush(client: Client, *, spool: Spool | None = None) -> FlushReport:
    """Send the spooled runs to ``client`` in order; see :class:`FlushReport`."""
    return (spool or spool_for()).flush(client)
