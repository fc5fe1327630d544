"""``/models/{namespace}/{name}/card`` and ``/assets/{ref}/card``: Hugging Face-style model
cards in and out, thin over the service layer (docs/integrations.md).

The app includes this router before ``assets``: its ``{ref:path}`` routes would otherwise
take ``.../card`` as part of a ref.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from modelatlas.api._deps import PrincipalDep, RegistryDep, located
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute
from modelatlas.refs import Ref
from modelatlas.registry.integration_types import CardImport, CardImported

router = APIRouter(route_class=StrictJSONRoute, tags=["integrations"],
                   responses=PROBLEM_RESPONSES)

MARKDOWN = "text/markdown; charset=utf-8"
_CARD_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"description": "the card, a README.md with YAML front matter",
          "content": {"text/markdown": {}}},
}


@router.post("/models/{namespace}/{name}/card", response_model=CardImported,
             summary="Read a Hugging Face model card onto a model (and a version)")
def import_card(namespace: str, name: str, body: CardImport, registry: RegistryDep,
                principal: PrincipalDep) -> CardImported:
    with located(path=("namespace", "name"), model="path/name"):
        ref = Ref.of("model", namespace, name)
        return registry.import_card(ref, body, principal=principal)


@router.get("/assets/{ref:ref}/card", response_class=Response, responses=_CARD_CONTENT,
            summary="The Hugging Face model card of a model version (a model: its newest)")
def export_card(ref: str, registry: RegistryDep, principal: PrincipalDep) -> Response:
    with located(path=("ref",)):
        text = registry.export_card(ref, principal=principal)
    return Response(content=text.encode("utf-8"), media_type=MARKDOWN)
