"""Integrations for pipelines: external catalog reconciliation, the CI/CD policy check, and
deployment manifests (KServe, Seldon) and Feast feature repositories in. Model cards are in
``cards.py``."""

from __future__ import annotations

from fastapi import APIRouter

from modelatlas.api._deps import PrincipalDep, RegistryDep
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.feast_types import FeastImport, FeastImported
from modelatlas.registry.integration_types import DeploymentsImport, DeploymentsImported
from modelatlas.registry.reconcile_types import (
    CatalogReconcileIn,
    CatalogReconcileReport,
    PolicyCheckIn,
    PolicyCheckResult,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["integrations"],
                   responses=PROBLEM_RESPONSES)


@router.post("/reconcile/catalog", response_model=CatalogReconcileReport,
             summary="Compare a Marquez or DataHub catalog export with the registry's "
                     "datasets (and optionally sync)")
def reconcile_catalog(body: CatalogReconcileIn, registry: RegistryDep,
                      principal: PrincipalDep) -> CatalogReconcileReport:
    return registry.reconcile_catalog(body.export, format=body.format,
                                      namespace=body.namespace, sync=body.sync,
                                      principal=principal)


@router.post("/policy-check", response_model=PolicyCheckResult,
             summary="Pipeline checks of a model version: dependencies, lineage, signature, "
                     "revalidation")
def policy_check(body: PolicyCheckIn, registry: RegistryDep,
                 principal: PrincipalDep) -> PolicyCheckResult:
    return registry.policy_check(body.ref, environment=body.environment, principal=principal)


@router.post("/deployments/import", response_model=DeploymentsImported,
             summary="Import KServe and Seldon manifests as deployments serving the model "
                     "versions they run")
def import_deployments(body: DeploymentsImport, registry: RegistryDep,
                       principal: PrincipalDep) -> DeploymentsImported:
    return registry.import_deployments(body, principal=principal)


@router.post("/import/feast", response_model=FeastImported,
             summary="Import a Feast repository's feature views, data sources and schemas "
                     "from its `feast registry-dump`")
def import_feast(body: FeastImport, registry: RegistryDep,
                 principal: PrincipalDep) -> FeastImported:
    # the caller sends the dump (the server runs nothing and fetches nothing)
    return registry.import_feast(body, principal=principal)
