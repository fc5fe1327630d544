"""``client.tokens``: the caller's API tokens (``/tokens``)."""

from __future__ import annotations

from collections.abc import Sequence

from modelatlas.client._transport import _given, _Transport, _validated
from modelatlas.registry.token_types import Token, TokenCreate, TokenCreated


class TokensAPI:
    """``client.tokens``: create (the secret is in the answer, once), list, revoke."""

    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    def create(self, *, name: str = "", scopes: Sequence[str] | None = None,
               expires_in_days: int | None = None) -> TokenCreated:
        body = _validated(TokenCreate, _given(
            name=name, scopes=None if scopes is None else list(scopes),
            expires_in_days=expires_in_days))
        return self._t.create_token(body)

    def list(self) -> list[Token]:
        return self._t.tokens()

    def revoke(self, token_id: str) -> Token:
        return self._t.revoke_token(token_id)
