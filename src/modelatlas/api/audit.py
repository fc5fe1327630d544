"""``/audit``: the signed checkpoint and inclusion / consistency proofs of the audit log,
thin over the service layer (docs/audit.md). Every route authenticates its caller (401
where authentication is required); what each may see is the service's decision
(:mod:`modelatlas.registry._audit`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from modelatlas.api._deps import PrincipalDep, RegistryDep
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.audit_types import (
    AuditCheckpoint,
    ConsistencyProof,
    CosignRequest,
    InclusionProof,
)

router = APIRouter(route_class=StrictJSONRoute, tags=["audit"], responses=PROBLEM_RESPONSES)

# bounds checked by the service (it names the valid range); here only "an integer"
Size = Annotated[int, Query(ge=0, le=2**62)]


@router.get("/audit/checkpoint", response_model=AuditCheckpoint,
            summary="The newest signed checkpoint (covers every committed event)")
def checkpoint(registry: RegistryDep, principal: PrincipalDep,
               witness: Annotated[list[str] | None, Query(
                   max_length=16,
                   description="only a checkpoint co-signed by these witness key names")]
               = None) -> AuditCheckpoint:
    return registry.audit_checkpoint(witnesses=witness or (), principal=principal)


@router.post("/audit/checkpoint/cosign", response_model=AuditCheckpoint,
             summary="Keep a witness's cosignature on a signed checkpoint")
def cosign(registry: RegistryDep, principal: PrincipalDep,
           body: CosignRequest) -> AuditCheckpoint:
    return registry.audit_cosign(body, principal=principal)


@router.get("/audit/proofs/inclusion", response_model=InclusionProof,
            summary="Prove an event is in the log")
def inclusion(registry: RegistryDep, principal: PrincipalDep, seq: Size,
              tree_size: Annotated[int | None, Query(ge=0, le=2**62)] = None) -> InclusionProof:
    return registry.audit_inclusion_proof(seq, tree_size=tree_size, principal=principal)


@router.get("/audit/proofs/consistency", response_model=ConsistencyProof,
            summary="Prove a larger tree extends a smaller one")
def consistency(registry: RegistryDep, principal: PrincipalDep,
                from_: Annotated[int, Query(alias="from", ge=0, le=2**62)],
                to: Annotated[int | None, Query(ge=0, le=2**62)] = None) -> ConsistencyProof:
    return registry.audit_consistency_proof(from_, to, principal=principal)
