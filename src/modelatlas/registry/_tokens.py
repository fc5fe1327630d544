"""The service layer's authentication, mixed into :class:`Registry`: API tokens (create,
list, revoke) and ``authenticate(bearer)``, which turns an API token or an OIDC JWT into
the :class:`Principal` it proves.

Every failed authentication appends ``auth.failed`` (reason, token id when known, client
address; never the presented value) until the client passes the per-minute limit; after
that it is refused with 429 without being looked at or logged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from modelatlas.errors import (
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from modelatlas.events import Action
from modelatlas.governance import tokens as fmt
from modelatlas.governance.authn import FailureLimiter, oidc_config
from modelatlas.governance.oidc import CredentialRejected, OidcVerifier, ProviderUnavailable
from modelatlas.governance.principal import Principal
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry.token_types import Token, TokenCreate, TokenCreated, TokenStatus
from modelatlas.store.tables import api_tokens

ANONYMOUS = "anonymous"
LAST_USED_GRANULARITY = timedelta(hours=1)
_SETUP_LOCK = threading.Lock()


class TokenService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    # tokens ----------------------------------------------------------------------------
    def create_token(self, body: TokenCreate | Mapping[str, Any], *,
                     principal: Principal | None = None) -> TokenCreated:
        """A new token acting as the caller. The answer holds the secret; nothing else
        ever will. A token cannot mint a token with scopes it does not hold itself."""
        spec = body if isinstance(body, TokenCreate) else _parse(body)
        caller = principal or Principal.local(self.settings.actor)
        scopes = fmt.check_scopes(spec.scopes)
        if caller.scopes is not None and not set(scopes) <= caller.scopes:
            raise InvalidInput.at("/scopes", "a token cannot grant scopes it does not hold")
        minted = fmt.mint()
        with self._write(caller.actor) as tx:
            now = fmt.parse_time(tx.now)
            values = {
                "token_id": minted.token_id, "secret_sha256": minted.secret_sha256,
                "person": caller.person, "name": spec.name, "scopes": scopes,
                "created_at": tx.now, "created_by": tx.actor,
                "expires_at": fmt.format_time(fmt.expiry(now, spec.expires_in_days)),
                "last_used_at": None, "revoked_at": None, "revoked_by": None,
            }
            tx.conn.execute(api_tokens.insert().values(**values))
            tx.emit(Action.TOKEN_CREATED, f"token:{minted.token_id}",
                    {"token_id": minted.token_id, "person": caller.person, "name": spec.name,
                     "scopes": scopes, "expires_at": values["expires_at"]}, None)
        token = _token_out(values, now)
        return TokenCreated(**token.model_dump(), token=minted.presented)

    def tokens(self, *, principal: Principal | None = None) -> list[Token]:
        """The caller's tokens (every token for the local single-user principal)."""
        caller = principal or Principal.local(self.settings.actor)
        query = sa.select(api_tokens).order_by(api_tokens.c.id)
        if not caller.is_local:
            query = query.where(api_tokens.c.person == caller.person)
        with self.db.read() as conn:
            rows = conn.execute(query.limit(1000)).mappings().all()
        now = datetime.now(UTC)
        return [_token_out(row, now) for row in rows]

    def revoke_token(self, token_id: str, *, principal: Principal | None = None) -> Token:
        """Revoke one of the caller's tokens (idempotent: revoking twice is not an error).
        Another person's token is not found, so ids cannot be probed."""
        caller = principal or Principal.local(self.settings.actor)
        where = api_tokens.c.token_id == token_id
        if not caller.is_local:
            where &= api_tokens.c.person == caller.person
        with self._write(caller.actor) as tx:
            row = tx.conn.execute(sa.select(api_tokens).where(where)).mappings().first()
            if row is None:
                raise NotFound(f"no token {token_id}", errors=[])
            if row["revoked_at"] is None:
                tx.conn.execute(api_tokens.update().where(where)
                                .values(revoked_at=tx.now, revoked_by=tx.actor))
                tx.emit(Action.TOKEN_REVOKED, f"token:{token_id}",
                        {"token_id": token_id, "person": row["person"]}, None)
            row = tx.conn.execute(sa.select(api_tokens).where(where)).mappings().one()
        return _token_out(row, datetime.now(UTC))

    # authentication --------------------------------------------------------------------
    def authenticate(self, bearer: str, *, client: str | None = None) -> Principal:
        """The principal ``bearer`` (an API token, or an OIDC JWT when a provider is
        configured) proves; :class:`Unauthenticated` (401) when it proves nothing,
        :class:`TooManyRequests` (429) when ``client`` failed too often this minute."""
        address = client or "unknown"
        limiter = self._auth_limiter()
        if limiter.blocked(address):
            raise TooManyRequests("too many failed authentications from this address")
        try:
            if fmt.looks_like_token(bearer):
                return self._token_principal(bearer)
            verifier = self._oidc_verifier()
            if verifier is None:
                raise CredentialRejected("the bearer value is not an API token")
            return verifier.verify(bearer)
        except CredentialRejected as exc:
            self._record_failure(exc, address, limiter)
            raise Unauthenticated(exc.reason) from None
        except ProviderUnavailable:
            raise Unavailable("the identity provider cannot be reached") from None

    def check_authentication(self) -> None:
        """Fail closed at start-up: settings are coherent and, when OIDC is configured,
        the provider's keys can be fetched."""
        verifier = self._oidc_verifier()
        if verifier is not None:
            try:
                verifier.prefetch()
            except ProviderUnavailable as exc:
                raise Unavailable(f"authentication is misconfigured: {exc}") from None

    def _token_principal(self, presented: str) -> Principal:
        parsed = fmt.parse(presented)
        if parsed is None:
            raise CredentialRejected("the token is not valid")
        token_id, secret = parsed
        with self.db.read() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_id == token_id)
                               ).mappings().first()
        # one answer for an unknown id and a wrong secret: ids cannot be probed
        if row is None or not fmt.secret_matches(token_id, secret, row["secret_sha256"]):
            raise CredentialRejected("the token is not valid", token_id=token_id)
        now = datetime.now(UTC)
        if row["revoked_at"] is not None:
            raise CredentialRejected("the token has been revoked", token_id=token_id)
        if fmt.parse_time(row["expires_at"]) <= now:
            raise CredentialRejected("the token has expired", token_id=token_id)
        self._touch(token_id, row["last_used_at"], now)
        return Principal(kind="token", person=row["person"], token_id=token_id,
                         scopes=frozenset(row["scopes"]))

    def _touch(self, token_id: str, last_used: str | None, now: datetime) -> None:
        """Record use at hour granularity: at most one small write per token per hour,
        not one per request (and no event: use is not a change to the registry)."""
        if last_used is not None and now - fmt.parse_time(last_used) < LAST_USED_GRANULARITY:
            return
        with self.db.write() as conn:
            conn.execute(api_tokens.update().where(api_tokens.c.token_id == token_id)
                         .values(last_used_at=fmt.format_time(now)))

    def _record_failure(self, exc: CredentialRejected, client: str,
                        limiter: FailureLimiter) -> None:
        if limiter.failed(client) > limiter.per_minute:
            return  # already past the limit: refused, and not logged again
        payload: dict[str, Any] = {"reason": exc.reason, "client": client}
        if exc.token_id:
            payload["token_id"] = exc.token_id
        ref = f"token:{exc.token_id}" if exc.token_id else "auth"
        with self._write(ANONYMOUS) as tx:
            tx.emit(Action.AUTH_FAILED, ref, payload, None)

    def _auth_limiter(self) -> FailureLimiter:
        with _SETUP_LOCK:
            limiter: FailureLimiter | None = self.__dict__.get("_auth_failures")
            if limiter is None:
                limiter = FailureLimiter(self.settings.auth_failures_per_minute)
                self.__dict__["_auth_failures"] = limiter
            return limiter

    def _oidc_verifier(self) -> OidcVerifier | None:
        with _SETUP_LOCK:
            if "_oidc" not in self.__dict__:
                config = oidc_config(self.settings)
                self.__dict__["_oidc"] = None if config is None else OidcVerifier(config)
            verifier: OidcVerifier | None = self.__dict__["_oidc"]
            return verifier


def _parse(body: Mapping[str, Any]) -> TokenCreate:
    try:
        return TokenCreate.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput.from_validation(exc) from None


def _status(row: Mapping[Any, Any], now: datetime) -> TokenStatus:
    if row["revoked_at"] is not None:
        return "revoked"
    return "expired" if fmt.parse_time(row["expires_at"]) <= now else "active"


def _token_out(row: Mapping[Any, Any], now: datetime) -> Token:
    return Token(token_id=row["token_id"], name=row["name"], person=row["person"],
                 scopes=list(row["scopes"]), status=_status(row, now),
                 created_at=row["created_at"], created_by=row["created_by"],
                 expires_at=row["expires_at"], last_used_at=row["last_used_at"],
                 revoked_at=row["revoked_at"], revoked_by=row["revoked_by"])
