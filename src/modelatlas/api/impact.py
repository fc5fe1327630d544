"""``/deps``: dependency impact analysis and revalidation marks, thin over the service layer."""

from __future__ import annotations

from fastapi import APIRouter

from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute

router = APIRouter(route_class=StrictJSONRoute, tags=["deps"], responses=PROBLEM_RESPONSES)
