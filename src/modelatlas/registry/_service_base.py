"""What the service mixins use of :class:`~modelatlas.registry.Registry`, declared once.

Each domain's operations live in a mixin (``_lineage.LineageService``, ...) that is only
ever used as one of ``Registry``'s bases. A mixin calls what ``Registry`` and
``AccessService`` define (the write transaction, the access checks); declaring those here,
for type checkers only, spares every mixin its own copy of the declarations.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import ColumnElement

    from modelatlas.config import Settings
    from modelatlas.governance.grants import Readable
    from modelatlas.governance.policy import Decision, Target
    from modelatlas.governance.principal import Principal
    from modelatlas.registry._tx import WriteTx
    from modelatlas.store.engine import Database


class ServiceBase:
    """The members every service mixin may use (defined by ``Registry`` and
    ``AccessService``; nothing here exists at run time)."""

    if TYPE_CHECKING:
        db: Database
        settings: Settings

        def _write(self, actor: str | None) -> AbstractContextManager[WriteTx]: ...

        def authorize(self, principal: Principal | None, action: str, namespace: str,
                      **attributes: Any) -> Decision: ...

        def authorize_read(self, principal: Principal | None, ref: str, namespace: str,
                           kind: str, tags: Iterable[str] = ()) -> None: ...

        def check_access(self, conn: Connection, principal: Principal | None, action: str,
                         namespace: str, target: Target | None = None) -> Decision: ...

        def _caller(self, principal: Principal | None) -> Principal: ...

        def denials_recorded(self) -> AbstractContextManager[None]: ...

        def readable(self, principal: Principal | None) -> Readable: ...

        def _visible(self, principal: Principal | None,
                     table: Any = ...) -> ColumnElement[bool] | None: ...

        @staticmethod
        def acting(principal: Principal | None, actor: str | None) -> str | None: ...
