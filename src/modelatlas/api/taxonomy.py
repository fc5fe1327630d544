"""``/taxonomy``: the controlled vocabulary of semantic tags, thin over the service layer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from modelatlas.api._deps import (
    PrincipalDep,
    RegistryDep,
    get_settings,
    located,
    page_limit,
)
from modelatlas.api.problems import PROBLEM_RESPONSES
from modelatlas.api.strict import StrictJSONRoute, decode_json, read_limited
from modelatlas.errors import FieldError, MalformedBody
from modelatlas.registry import Page
from modelatlas.search.taxonomy import Expansion, LoadSummary, Term

router = APIRouter(route_class=StrictJSONRoute, tags=["taxonomy"], responses=PROBLEM_RESPONSES)

TagQuery = Annotated[str, Query(min_length=1, max_length=200, description="a tag as typed")]
_YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}


class TermPut(BaseModel):
    """A term as it should be: ``parent`` and ``description`` are replaced; ``synonyms``
    too when given (left out, they stay)."""

    model_config = ConfigDict(extra="forbid")
    parent: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=2000)
    synonyms: list[str] | None = Field(default=None, max_length=50)


class SynonymPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = Field(max_length=200, description="the canonical term it resolves to")


@router.get("/taxonomy/terms", response_model=Page[Term], summary="List vocabulary terms")
def list_terms(
    registry: RegistryDep,
    principal: PrincipalDep,
    limit: Annotated[int, Depends(page_limit(100))],
    under: Annotated[str | None, Query(max_length=200, description="a term's subtree")] = None,
    cursor: str | None = None,
) -> Page[Term]:
    with located(query=("under", "cursor")):
        return registry.taxonomy_terms(under=under, cursor=cursor, limit=limit,
                                       principal=principal)


@router.get("/taxonomy/expand", response_model=Expansion, summary="What a tag matches")
def expand(tag: TagQuery, registry: RegistryDep, principal: PrincipalDep) -> Expansion:
    with located(query=("tag",)):
        return registry.expand_tag(tag, principal=principal)


@router.get("/taxonomy/terms/{term:path}", response_model=Term, summary="Get a term")
def get_term(term: str, registry: RegistryDep, principal: PrincipalDep) -> Term:
    with located(path=("term",)):
        return registry.get_term(term, principal=principal)


@router.put("/taxonomy/terms/{term:path}", response_model=Term, summary="Create or update a term")
def set_term(term: str, body: TermPut, registry: RegistryDep, principal: PrincipalDep) -> Term:
    with located(path=("term",)):
        return registry.set_term(term, parent=body.parent, description=body.description,
                                 synonyms=body.synonyms, principal=principal)


@router.delete("/taxonomy/terms/{term:path}", status_code=204, response_class=Response,
               summary="Remove a term (409 while it has narrower terms)")
def remove_term(term: str, registry: RegistryDep, principal: PrincipalDep) -> Response:
    with located(path=("term",)):
        registry.remove_term(term, principal=principal)
    return Response(status_code=204)


@router.put("/taxonomy/synonyms/{synonym:path}", response_model=Term,
            summary="Make a synonym resolve to a term")
def set_synonym(synonym: str, body: SynonymPut, registry: RegistryDep,
                principal: PrincipalDep) -> Term:
    with located(path=("synonym",)):
        return registry.add_synonym(body.term, synonym, principal=principal)


@router.delete("/taxonomy/synonyms/{synonym:path}", status_code=204, response_class=Response,
               summary="Remove a synonym")
def remove_synonym(synonym: str, registry: RegistryDep, principal: PrincipalDep) -> Response:
    with located(path=("synonym",)):
        registry.remove_synonym(synonym, principal=principal)
    return Response(status_code=204)


async def _document(request: Request) -> Any:
    """The body as JSON (strictly decoded) or YAML text, read within the size limit."""
    settings = get_settings(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    if not is_json and media not in _YAML_TYPES:
        raise MalformedBody(
            "send the vocabulary as application/yaml or application/json",
            errors=[FieldError("header/content-type", "application/yaml or application/json")],
        )
    body = await read_limited(request, settings)
    if is_json:
        return decode_json(body, settings)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"body is not valid UTF-8 (byte {exc.start})",
                            errors=[FieldError("", "invalid UTF-8")]) from None


_LOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "a vocabulary document: version 1, terms with their synonyms "
                       "and nested children",
        "content": {"application/yaml": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "object"}}},
    }
}


@router.post("/taxonomy/load", response_model=LoadSummary, openapi_extra=_LOAD_BODY,
             summary="Load a vocabulary document (YAML or JSON)")
def load(
    document: Annotated[Any, Depends(_document)],
    registry: RegistryDep,
    principal: PrincipalDep,
    replace: Annotated[bool, Query(description="remove the terms the document omits")] = False,
) -> LoadSummary:
    with located(query=("replace",)):
        return registry.load_vocabulary(document, replace=replace, principal=principal)
