"""Recording a run that produced no model version (a failed or aborted training run, an
evaluation job that never reported) with links to the datasets, features, code and
environment it used, in one transaction. Mixed into :class:`Registry`.

Registering a version (:mod:`._registration`) already records its producing run; this is
the same run-and-inputs half without the version, so a failed run is as traceable as a
successful one: ``trained_on:`` style questions about a dataset find its failed runs too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from modelatlas.errors import InvalidInput
from modelatlas.governance.principal import Principal
from modelatlas.jsonsafe import check_tree
from modelatlas.kinds import check_version_policy
from modelatlas.refs import Ref
from modelatlas.registry._guards import Guard, hidden_as_missing, input_guard
from modelatlas.registry._registration import resolve_run_inputs
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._tx import WriteTx
from modelatlas.registry._withdrawal import refuse_withdrawn
from modelatlas.registry.run_types import RunRecord, RunRecorded
from modelatlas.registry.types import AssetCreate, Relation

R = TypeVar("R", bound=BaseModel)


class RunService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def _idempotent(self, *, key: str | None, operation: str, request: BaseModel,
                        result_type: type[R], actor: str | None,
                        work: Callable[[WriteTx], R]) -> R: ...

    def record_run(self, record: RunRecord, *, actor: str | None = None,
                   idempotency_key: str | None = None,
                   principal: Principal | None = None) -> RunRecorded:
        """Create run ``record.ref`` and link it ``used`` to each input (created from its
        inline description when missing), all or nothing. With ``idempotency_key`` a retry
        answers the first result instead of recording twice.

        Needs ``asset.create`` in the run's namespace, not ``version.register``: the run
        registers no version (a contributor may record a failed run, as they may register
        a successful one). Inputs must be readable, or creatable where described inline."""
        ref = Ref.parse(record.ref)
        if ref.kind != "run":
            raise InvalidInput.at("/ref", f"a run ref (run:namespace/name), got a {ref.kind}")
        check_version_policy(ref, "/ref")
        check_tree(record.model_dump(mode="python", exclude_defaults=True))
        self.authorize(principal, "asset.create", ref.namespace, ref=str(ref), kind="run")

        def work(tx: WriteTx) -> RunRecorded:
            return _record(tx, ref, record, input_guard(self.check_access, tx.conn, principal))

        with hidden_as_missing(), self.denials_recorded():
            return self._idempotent(
                key=idempotency_key, operation="record_run", request=record,
                result_type=RunRecorded, actor=self.acting(principal, actor), work=work,
            )


def _record(tx: WriteTx, ref: Ref, record: RunRecord, guard: Guard | None) -> RunRecorded:
    created: list[str] = []
    # Inputs first, so a missing one is named by its path before anything is inserted
    # (the transaction would roll it back anyway).
    datasets, features, extras = resolve_run_inputs(tx, record, created, guard)
    if not record.allow_withdrawn:
        refuse_withdrawn(tx, [(f"/datasets/{i}", n[0]) for i, n in enumerate(datasets)])
    spec = AssetCreate(ref=str(ref), description=record.description, owners=record.owners,
                       tags=record.tags, metadata=record.metadata, custom=record.custom,
                       state=record.state)
    run_id, _ = tx.insert_asset(ref, spec)
    run_node = (run_id, ref)
    links: list[Relation] = []
    seen: set[int] = set()
    for node in (*datasets, *features, *extras):
        if node[0] not in seen:  # the same dataset listed twice is one edge
            seen.add(node[0])
            links.append(tx.link_new(run_node, "used", node))
    return RunRecorded(run=tx.written(run_id), created=created, relations=links)
