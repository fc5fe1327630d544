"""``POST /runs``: record a run that produced no model version (a failed or aborted
training run) with links to what it used, in one call; thin over the service layer."""

from __future__ import annotations

from fastapi import APIRouter, Response

from modelatlas.api._deps import IdempotencyKey, PrincipalDep, RegistryDep
from modelatlas.api.assets import location_of
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.registry.run_types import RunRecord, RunRecorded

router = APIRouter(route_class=StrictJSONRoute, tags=["runs"], responses=PROBLEM_RESPONSES)


@router.post("/runs", status_code=201, response_model=RunRecorded,
             summary="Record a run and link the datasets, features, code and environment "
                     "it used")
def record_run(
    record: RunRecord,
    response: Response,
    registry: RegistryDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> RunRecorded:
    result = registry.record_run(record, idempotency_key=idempotency_key, principal=principal)
    response.headers["Location"] = location_of(result.run.ref)
    response.headers["ETag"] = result.run.etag
    return result
