"""``client.aliases`` (named pointers to a model's versions) and ``client.lineage_changes``
(requested changes to the lineage of versions in production)."""

from __future__ import annotations

from collections.abc import Iterator

from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.registry import Asset, Page
from modelatlas.registry.alias_types import Alias, AliasSet, LineageChange, LineageDecision


class AliasesAPI:
    """``client.aliases``: set, get, list and remove a model's aliases."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def set(self, namespace: str, name: str, alias: str, version: str | int) -> Alias:
        """Point ``alias`` at ``version`` (a number, or the version's ref)."""
        return self._t.set_alias(namespace, name, alias,
                                 _validated(AliasSet, {"version": version}))

    def get(self, namespace: str, name: str, alias: str) -> Asset:
        """The version ``alias`` points at."""
        return self._t.get_alias(namespace, name, alias)

    def list(self, namespace: str, name: str) -> list[Alias]:
        return self._t.aliases(namespace, name).items

    def remove(self, namespace: str, name: str, alias: str) -> None:
        self._t.remove_alias(namespace, name, alias)


class LineageChangesAPI:
    """``client.lineage_changes``: list, read, approve and reject change requests."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def list(self, *, namespace: str | None = None, status: str | None = None,
             cursor: str | None = None, limit: int = 50) -> Page[LineageChange]:
        return self._t.lineage_changes(_given(namespace=namespace, status=status,
                                              cursor=cursor, limit=limit))

    def iter(self, *, namespace: str | None = None, status: str | None = None,
             page_size: int = 200) -> Iterator[LineageChange]:
        cursor: str | None = None
        while True:
            page = self.list(namespace=namespace, status=status, cursor=cursor,
                             limit=page_size)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, change_id: int) -> LineageChange:
        return self._t.lineage_change(change_id)

    def approve(self, change_id: int, *, comment: str = "") -> LineageChange:
        """Apply the change (a maintainer of the version's namespace, not its requester)."""
        body = _validated(LineageDecision, {"comment": comment})
        return self._t.decide_lineage_change(change_id, "approve", body)

    def reject(self, change_id: int, *, comment: str = "") -> LineageChange:
        body = _validated(LineageDecision, {"comment": comment})
        return self._t.decide_lineage_change(change_id, "reject", body)
