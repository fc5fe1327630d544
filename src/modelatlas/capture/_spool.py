"""Registrations waiting for the registry: one JSON file per request under
``<MODELATLAS_HOME>/spool/``, sent in order by the next capture or ``capture flush``.

A file is written to a temporary name and renamed into place, so a reader never sees half
of one. File names start with the time in nanoseconds, so sorting them is sending order.
Each entry carries the idempotency key it was first sent with; the registry answers a
repeat of that key with the stored result, so a flush retried after a lost answer, or two
flushes racing, register once. An entry the registry refuses (a user error, not an outage)
moves to ``spool/rejected/`` with the error, so it is neither lost nor retried forever.

Operations: ``register_version`` (a finished run and its model version), ``record_run`` (a
failed run linked to what it used) and ``create_asset`` (a failed run without links: what
spools written before ``record_run`` existed hold, still sent as they are).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from modelatlas.client import Client
from modelatlas.errors import ModelAtlasError
from modelatlas.registry import AssetCreate, RunRecord, VersionRegistration

log = logging.getLogger("modelatlas.capture")

Operation = Literal["register_version", "record_run", "create_asset"]


@dataclass(frozen=True)
class Entry:
    """One request to send: a version registration or a (failed) run."""

    operation: Operation
    body: dict[str, Any]
    idempotency_key: str
    namespace: str = ""
    name: str = ""
    target: str = ""  # where it was first sent (information only: flush uses its client)

    def describe(self) -> str:
        if self.operation == "register_version":
            return f"model:{self.namespace}/{self.name} (new version)"
        return str(self.body.get("ref", "?"))

    def send(self, client: Client) -> str:
        """Send to ``client``; return the ref written. Raises what the registry raises."""
        if self.operation == "register_version":
            reg = VersionRegistration.model_validate(self.body)
            done = client.models.register_version(self.namespace, self.name, reg,
                                                  idempotency_key=self.idempotency_key)
            return done.model_version.ref
        if self.operation == "record_run":
            return self._record_run(client)
        spec = AssetCreate.model_validate(self.body)
        asset = client.assets.create(**spec.model_dump(), idempotency_key=self.idempotency_key)
        return asset.ref

    def _record_run(self, client: Client) -> str:
        record = RunRecord.model_validate(self.body)
        try:
            return client.runs.record(record, idempotency_key=self.idempotency_key).run.ref
        except ModelAtlasError as exc:
            if not is_refusal(exc):
                raise
            # A link the registry refuses (a dataset ref that does not exist, a withdrawn
            # dataset, a server without POST /runs) must not lose the failure itself: record
            # the run alone, its inputs still named in custom.capture. A refused key was not
            # stored, so the same key guards this retry too.
            log.warning("modelatlas capture: the registry refused the links of %s (%s); "
                        "recording the run without them", record.ref, exc.diagnosis())
        alone = record.model_dump(include={"ref", "description", "owners", "tags", "metadata",
                                           "custom", "state"})
        return client.assets.create(**alone, idempotency_key=self.idempotency_key).ref

    def to_json(self) -> dict[str, Any]:
        return {"operation": self.operation, "body": self.body, "namespace": self.namespace,
                "name": self.name, "idempotency_key": self.idempotency_key,
                "target": self.target}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(operation=data["operation"], body=data["body"],
                   idempotency_key=data["idempotency_key"], namespace=data.get("namespace", ""),
                   name=data.get("name", ""), target=data.get("target", ""))


@dataclass
class FlushReport:
    """What a flush did: refs sent, entries refused (moved aside), entries still waiting."""

    sent: list[dict[str, str]] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "rejected": self.rejected, "pending": self.pending,
                "error": self.error}


def is_refusal(exc: BaseException) -> bool:
    """A user error the registry answered (4xx): sending it again cannot succeed. Anything
    else (unreachable, 5xx, a database down) is an outage worth retrying."""
    return isinstance(exc, ModelAtlasError) and exc.status < 500


class Spool:
    """The spool folder of one registry home."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def rejected_dir(self) -> Path:
        return self.directory / "rejected"

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.json") if p.is_file())

    def write(self, entry: Entry) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{time.time_ns():020d}-{entry.idempotency_key}.json"
        temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        with temp.open("w", encoding="utf-8") as handle:
            json.dump(entry.to_json(), handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, final)
        return final

    def reject(self, path: Path, error: ModelAtlasError) -> None:
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        data = json.loads(path.read_text(encoding="utf-8"))
        data["error"] = {"code": error.code, "detail": error.diagnosis()}
        target = self.rejected_dir / path.name
        target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        path.unlink(missing_ok=True)

    def flush(self, client: Client) -> FlushReport:
        """Send every pending entry in order; stop at the first outage (the rest wait)."""
        report = FlushReport()
        files = self.pending()
        for index, path in enumerate(files):
            try:
                entry = Entry.from_json(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                continue  # another flush sent it meanwhile
            except (OSError, ValueError, KeyError) as exc:
                self.reject(path, ModelAtlasError(f"unreadable spool entry: {exc}"))
                report.rejected.append({"file": path.name, "error": str(exc)})
                continue
            try:
                ref = entry.send(client)
            except Exception as exc:
                if is_refusal(exc):
                    assert isinstance(exc, ModelAtlasError)
                    self._refused(path, entry, exc, report)
                    continue
                report.error = exc.diagnosis() if isinstance(exc, ModelAtlasError) else repr(exc)
                report.pending = [p.name for p in files[index:]]
                return report
            path.unlink(missing_ok=True)
            report.sent.append({"file": path.name, "ref": ref})
        return report

    def _refused(self, path: Path, entry: Entry, exc: ModelAtlasError,
                 report: FlushReport) -> None:
        log.warning("modelatlas capture: the registry refused %s (%s); kept in %s",
                    entry.describe(), exc.diagnosis(), self.rejected_dir)
        self.reject(path, exc)
        report.rejected.append({"file": path.name, "error": exc.diagnosis()})
