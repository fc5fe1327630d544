"""The service layer's search operations, mixed into :class:`Registry`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelatlas.collector import collector_paused
from modelatlas.errors import InvalidInput
from modelatlas.registry._rows import assets_from_page, check_limit
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._visibility import bound_visibility, readable_in, visible_to
from modelatlas.registry.types import FacetValue, SearchResult
from modelatlas.search import engine
from modelatlas.search.parser import parse

if TYPE_CHECKING:
    from modelatlas.governance.principal import Principal
    from modelatlas.search.ast import Node
    from modelatlas.search.visibility import Visible


class SearchService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    if TYPE_CHECKING:
        def note_search(self, tree: Node, visible: Visible | None = None) -> None: ...

    def search(
        self,
        q: str,
        *,
        facets: list[str] | None = None,
        sort: str = "relevance",
        cursor: str | None = None,
        limit: int = 50,
        principal: Principal | None = None,
    ) -> SearchResult:
        """Assets matching ``q`` (docs/query-language.md), one keyset page at a time. Only
        assets the caller may read are hits, counted in facets or named by a predicate:
        the filter is part of the query (the local user's adds nothing)."""
        if not isinstance(q, str):
            raise InvalidInput.at("/q", "a query is a string")
        check_limit(limit, self.settings.page_limit_max)
        tree = parse(q)
        # A page of up to 500 rows, each decoded and built into an Asset, is thousands of
        # short-lived acyclic containers: with the collector on, they set off young
        # collections (and now and then a full one) that re-examine the page being built
        # (modelatlas/collector.py). Paused, they die by reference counting.
        with collector_paused():
            with self.db.read() as conn:
                readable = readable_in(conn, principal)
                visible = visible_to(readable)
                hits = engine.search(conn, q, facets=facets, sort=sort, cursor=cursor,
                                     limit=limit, tree=tree, visible=visible,
                                     bound=bound_visibility(readable))
            result = SearchResult(
                query=q,
                items=assets_from_page(hits.rows, json_text=hits.json_text),
                facets={name: [FacetValue(value=v, count=n) for v, n in counted]
                        for name, counted in hits.facets.items()},
                next_cursor=hits.next_cursor,
                unknown_tags=hits.unknown_tags,
            )
            # the page's rows die now: alive, the collection that the pause's end sets off
            # would examine every one of them with the Assets built from them
            del hits
        if cursor is None:  # a search is one signal, however many pages are read
            self.note_search(tree, visible)
        return result
