"""``client.integrations``: catalog reconciliation (``/reconcile/catalog``), the CI/CD
policy check (``/policy-check``), model cards in and out (``/models/{ns}/{name}/card``,
``/assets/{ref}/card``), deployment manifests in (``/deployments/import``) and Feast
feature repositories in (``/import/feast``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelatlas.client._transport import _Transport, _validated
from modelatlas.errors import InvalidInput
from modelatlas.refs import Ref
from modelatlas.registry.feast_types import FeastImport, FeastImported
from modelatlas.registry.integration_types import (
    CardImport,
    CardImported,
    DeploymentsImport,
    DeploymentsImported,
)
from modelatlas.registry.reconcile_types import (
    CatalogReconcileIn,
    CatalogReconcileReport,
    PolicyCheckIn,
    PolicyCheckResult,
)


class IntegrationsAPI:
    """``client.integrations``: compare a catalog export with the registry; check a model
    version against the pipeline rules; read and write model cards; import deployment
    manifests."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def reconcile_catalog(self, export: dict[str, Any] | list[Any], *, format: str = "auto",
                          namespace: str | None = None,
                          sync: bool = False) -> CatalogReconcileReport:
        """``export``: a parsed Marquez dataset listing or DataHub MCE/MCP list."""
        body = _validated(CatalogReconcileIn, {"format": format, "export": export,
                                               "namespace": namespace, "sync": sync})
        return self._t.reconcile_catalog(body)

    def policy_check(self, ref: str, *, environment: str | None = None) -> PolicyCheckResult:
        body = _validated(PolicyCheckIn, {"ref": ref, "environment": environment})
        return self._t.policy_check(body)

    def import_card(self, model: str | Ref, card: str, *,
                    version: int | None = None) -> CardImported:
        """Read a Hugging Face-style README.md onto ``model`` (``namespace/name`` or
        ``model:namespace/name``); with ``version``, onto that existing version."""
        ref = _model(model)
        body = _validated(CardImport, {"card": card, "version": version})
        return self._t.import_card(ref.namespace, ref.name, body)

    def export_card(self, ref: str | Ref) -> str:
        """The card (README.md text) of a model version; of a model: its newest version."""
        return self._t.export_card(str(Ref.coerce(ref)))

    def import_deployments(self, manifests: Sequence[str], *, namespace: str | None = None,
                           strict: bool = False,
                           sources: Sequence[str] | None = None) -> DeploymentsImported:
        """Import KServe/Seldon manifests (YAML texts); ``sources`` names each in the
        report; ``strict`` writes nothing when a deployment matches no single version."""
        body = _validated(DeploymentsImport, {
            "manifests": list(manifests), "namespace": namespace, "strict": strict,
            "sources": None if sources is None else list(sources)})
        return self._t.import_deployments(body)

    def import_feast(self, dump: dict[str, Any], *, namespace: str) -> FeastImported:
        """Import a Feast repository from what ``feast registry-dump`` printed (parsed):
        its feature views as ``feature`` versions in ``namespace``, with their data sources
        and schemas; a changed definition becomes a new version."""
        return self._t.import_feast(_validated(FeastImport, {"dump": dump,
                                                             "namespace": namespace}))


def _model(model: str | Ref) -> Ref:
    """A model named as ``namespace/name``, ``model:namespace/name`` or a :class:`Ref`."""
    if isinstance(model, Ref):
        ref = model
    elif ":" in model:
        ref = Ref.parse(model, path="/model")
    else:
        namespace, _, name = model.partition("/")
        ref = Ref.of("model", namespace, name)
    if ref.kind != "model" or ref.version is not None:
        raise InvalidInput.at("/model", "a model: namespace/name or model:namespace/name")
    return ref
