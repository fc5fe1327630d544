"""``with capture(namespace, model) as run:``: a training run recorded on its own.

The block never fails because of the registry: every error of capture itself is logged
as a warning on the ``modelatlas.capture`` logger and swallowed, and only the training
code's own exceptions leave the block, unchanged. What cannot be sent (registry
unreachable, its database down) waits in the spool (:mod:`modelatlas.capture._spool`).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from modelatlas.capture import _build, _seeds
from modelatlas.capture._facts import Facts, collect
from modelatlas.capture._files import asset_name, digest_path, file_format
from modelatlas.capture._spool import Entry, Spool, is_refusal
from modelatlas.client import Client
from modelatlas.config import Settings
from modelatlas.errors import ModelAtlasError
from modelatlas.refs import Ref
from modelatlas.registry import InlineAsset, Registration, RunRecord

log = logging.getLogger("modelatlas.capture")


class Run:
    """What the training code tells the capture; everything else is collected for it.

    Every method is safe: a bad argument is logged and ignored, never raised, so adding
    capture to a script cannot break it.
    """

    def __init__(self, namespace: str, model: str) -> None:
        self.namespace = namespace
        self.model = model
        self.id = uuid.uuid4().hex
        self.params: dict[str, Any] = {}
        self.metrics: dict[str, float] = {}
        self.seeds: dict[str, int] = {}
        self.datasets: list[str | InlineAsset] = []
        self.dataset_facts: list[dict[str, Any]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.tags: list[str] = []
        self.metadata: dict[str, Any] = {}
        self.failure: str | None = None
        # Filled in when the block ends:
        self.status: str | None = None
        self.registration: Registration | None = None
        self.failed_run: str | None = None
        self.spooled: Path | None = None

    @property
    def ref(self) -> str | None:
        """The registered model version, once the block ended and the registry answered."""
        return self.registration.model_version.ref if self.registration else None

    def log_param(self, key: str, value: Any) -> None:
        self.params[str(key)] = value

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in params.items():
            self.log_param(key, value)

    def log_metric(self, key: str, value: float) -> None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            log.warning("modelatlas capture: metric %s=%r is not a number; ignored", key, value)
            return
        if not math.isfinite(number):
            log.warning("modelatlas capture: metric %s=%r is not finite; ignored", key, value)
            return
        self.metrics[str(key)] = number

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        for key, value in metrics.items():
            self.log_metric(key, value)

    def set_seed(self, name: str, seed: int) -> None:
        """Record a seed the capture cannot see being set (another library's, a sampler's)."""
        if isinstance(seed, int) and not isinstance(seed, bool):
            self.seeds[str(name)] = seed

    def add_tags(self, *tags: str) -> None:
        self.tags += [t for t in tags if t not in self.tags]

    def set_metadata(self, **fields: Any) -> None:
        """Model version metadata (``framework``, ``task`` ...: the model_version schema)."""
        self.metadata.update(fields)

    def fail(self, reason: str) -> None:
        """Mark the run failed without raising (e.g. a wrapped command's exit status)."""
        self.failure = reason

    def use_dataset(self, source: str | Path, *, name: str | None = None,
                    ref: str | None = None) -> str | None:
        """Declare a dataset the run reads: a registered ref (``dataset:ns/name@v``,
        linked), or a file or directory (hashed; linked to ``ref`` when given, else to
        ``dataset:<namespace>/<name or file stem>@<first 12 hex of its SHA-256>``, created
        with its digest when missing). Returns the ref, or None when it cannot be used."""
        try:
            if isinstance(source, str) and source.startswith("dataset:"):
                parsed = str(Ref.parse(source))
                self.datasets.append(parsed)
                self.dataset_facts.append({"ref": parsed})
                return parsed
            return self._use_file(Path(source), name, ref)
        except (OSError, ModelAtlasError) as exc:
            log.warning("modelatlas capture: dataset %s not recorded: %s", source, exc)
            return None

    def _use_file(self, path: Path, name: str | None, ref: str | None) -> str:
        digest = digest_path(path)
        if ref is None:
            ref = str(Ref.of("dataset", self.namespace, name or asset_name(path),
                             digest.sha256[:12]))
        else:
            ref = str(Ref.parse(ref))
        metadata = {"location": path.resolve().as_uri(), "size_bytes": digest.size,
                    "digest": f"sha256:{digest.sha256}", "format": file_format(path)}
        self.datasets.append(InlineAsset(
            ref=ref, metadata={k: v for k, v in metadata.items() if v is not None}))
        self.dataset_facts.append({"ref": ref, "path": str(path.resolve()),
                                   "sha256": digest.sha256, "size": digest.size,
                                   "files": digest.files})
        return ref

    def log_artifact(self, path: str | Path, *, name: str | None = None) -> dict[str, Any] | None:
        """Record a file or directory the run wrote: its URI, SHA-256 and size."""
        target = Path(path)
        try:
            digest = digest_path(target)
        except OSError as exc:
            log.warning("modelatlas capture: artifact %s not recorded: %s", path, exc)
            return None
        artifact = {"uri": target.resolve().as_uri(), "sha256": digest.sha256,
                    "size": digest.size, "name": name or target.name}
        self.artifacts.append(artifact)
        return artifact


def _status(exc: BaseException | None, failure: str | None) -> tuple[str, str | None]:
    """The run's status and error text from how the block ended."""
    if isinstance(exc, SystemExit) and exc.code in (0, None):
        exc = None
    if exc is None:
        return ("failed", failure) if failure else ("completed", None)
    if isinstance(exc, KeyboardInterrupt):
        return "aborted", "KeyboardInterrupt"
    if isinstance(exc, SystemExit):
        return "failed", f"SystemExit: {exc.code}"
    return "failed", f"{type(exc).__name__}: {exc}"


class Capture:
    """The context manager :func:`capture` returns (see its docstring)."""

    def __init__(self, namespace: str, model: str, *, client: Client | None,
                 env: Iterable[str], description: str, tags: Iterable[str],
                 spool_dir: Path | None, timeout: float,
                 command: list[str] | None) -> None:
        self.run = Run(namespace, model)
        self.run.add_tags(*tags)
        self._client = client
        self._env = tuple(env)
        self._description = description
        self._spool_dir = spool_dir
        self._timeout = timeout
        self._command = command
        self._facts: Facts | None = None
        self._started = datetime.now(UTC)

    def __enter__(self) -> Run:
        self._started = datetime.now(UTC)
        try:
            self._facts = collect(self._env)
            if self._command is not None:
                self._facts.command = list(self._command)
        except Exception:
            log.warning("modelatlas capture: could not collect the run's facts", exc_info=True)
        _seeds.start(self.run.set_seed)
        return self.run

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        _seeds.stop(self.run.set_seed)
        try:
            self._finish(exc)
        except Exception:
            log.warning("modelatlas capture: the run was not recorded", exc_info=True)
        return False  # the training code's own exception, if any, goes on unchanged

    # -- recording -------------------------------------------------------------------
    def _finish(self, exc: BaseException | None) -> None:
        run = self.run
        status, error = _status(exc, run.failure)
        run.status = status
        facts = self._facts or Facts(command=[], cwd="", python={}, packages=[], hardware={},
                                     env={}, ci=None, git=None, user=None)
        ended = datetime.now(UTC)
        run_meta = _build.run_metadata(params=run.params, seeds=run.seeds, metrics=run.metrics,
                                       started=self._started, ended=ended, status=status,
                                       user=facts.user)
        code = _build.code_input(run.namespace, facts) if self._facts else None
        environment = _build.environment_input(run.namespace, facts) if self._facts else None
        extra: dict[str, Any] = {"run_id": run.id, "datasets": run.dataset_facts}
        if error is not None:
            extra["error"] = error
            extra["model"] = f"model:{run.namespace}/{run.model}"
            extra["code"] = code.ref if code else None
            extra["environment"] = environment.ref if environment else None
            body = _build.failed_run(namespace=run.namespace, model=run.model, run_id=run.id,
                                     started=self._started, run_meta=run_meta,
                                     custom=_build.run_custom(facts, extra), error=error)
            record = RunRecord(**body.model_dump(exclude={"digests"}), datasets=run.datasets,
                               code=code, environment=environment)
            entry = Entry("record_run", record.model_dump(mode="json", exclude_defaults=True),
                          run.id)
        else:
            reg = _build.version_registration(
                run_meta=run_meta, custom=_build.run_custom(facts, extra), metrics=run.metrics,
                artifacts=run.artifacts, datasets=run.datasets, code=code,
                environment=environment, description=self._description, tags=run.tags,
                metadata=run.metadata,
                requirements=_build.requirements_of(facts) if self._facts else None)
            entry = Entry("register_version", reg.model_dump(mode="json", exclude_unset=True),
                          run.id, namespace=run.namespace, name=run.model)
        self._deliver(entry)

    def _spool(self) -> Spool:
        if self._spool_dir is not None:
            return Spool(self._spool_dir)
        return Spool(Settings().home / "spool")

    def _open(self) -> tuple[Client, bool, str]:
        """The registry to send to, whether we own it (and close it), and its address."""
        if self._client is not None:
            return self._client, False, "the given client"
        settings = Settings()
        if settings.url:
            return Client(settings.url, timeout=self._timeout), True, settings.url
        return Client.local(), True, str(settings.home)

    def _deliver(self, entry: Entry) -> None:
        spool = self._spool()
        try:
            client, owned, target = self._open()
        except Exception as exc:
            self._keep(spool, entry, "", exc)
            return
        try:
            earlier = spool.flush(client)
            if earlier.error is not None:
                self._keep(spool, entry, target, earlier.error)
                return
            self._send(spool, client, entry, target)
        finally:
            if owned:
                client.close()

    def _send(self, spool: Spool, client: Client, entry: Entry, target: str) -> None:
        run = self.run
        try:
            if entry.operation == "register_version":
                reg = client.models.register_version(
                    entry.namespace, entry.name, entry.body, idempotency_key=entry.idempotency_key)
                run.registration = reg
                log.info("modelatlas capture: registered %s", reg.model_version.ref)
            else:
                run.failed_run = entry.send(client)
                log.info("modelatlas capture: recorded the failed run %s", run.failed_run)
        except Exception as exc:
            if not is_refusal(exc):
                self._keep(spool, entry, target, exc)
                return
            assert isinstance(exc, ModelAtlasError)
            path = spool.write(entry)
            spool.reject(path, exc)
            log.warning("modelatlas capture: the registry refused the run (%s); the request "
                        "is kept in %s", exc.diagnosis(), spool.rejected_dir)

    def _keep(self, spool: Spool, entry: Entry, target: str, why: object) -> None:
        reason = why.diagnosis() if isinstance(why, ModelAtlasError) else str(why)
        self.run.spooled = spool.write(Entry(
            entry.operation, entry.body, entry.idempotency_key, entry.namespace, entry.name,
            target))
        log.warning("modelatlas capture: registry unreachable (%s); the run is spooled in %s "
                    "and will be sent by the next capture or `modelatlas capture flush`",
                    reason, spool.directory)


def capture(
    namespace: str,
    model: str,
    *,
    client: Client | None = None,
    env: Iterable[str] = (),
    description: str = "",
    tags: Iterable[str] = (),
    spool_dir: str | Path | None = None,
    timeout: float = 10.0,
    command: list[str] | None = None,
) -> Capture:
    """Record a training run and register the model version it produced::

        with modelatlas.capture(namespace="fraud", model="churn") as run:
            run.use_dataset("data/transactions.csv")
            run.log_params({"alpha": 0.1})
            ...                                   # train, save model.npz
            run.log_metric("rmse", rmse)
            run.log_artifact("model.npz")

    The registry is ``client`` if given, else the server at ``MODELATLAS_URL``, else the
    local registry of ``MODELATLAS_HOME``. ``env`` adds names to the environment variable
    allow-list (names that look like secrets are refused). On an exception in the block a
    failed run is recorded and the exception re-raised unchanged. See docs/capture.md.
    """
    return Capture(namespace, model, client=client, env=env, description=description,
                   tags=tags, spool_dir=None if spool_dir is None else Path(spool_dir),
                   timeout=timeout, command=command)
