"""API tokens in the service layer, on both backends: shown once, stored hashed, scoped,
expiring, revocable; failed authentications logged without the secret and rate limited."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from modelatlas.errors import InvalidInput, NotFound, TooManyRequests, Unauthenticated
from modelatlas.governance import Principal
from modelatlas.governance.tokens import parse_time
from modelatlas.registry import Registry
from modelatlas.store.tables import api_tokens

ADA = Principal(kind="user", person="ada")


def events_of(registry: Registry, action: str) -> list[dict[str, object]]:
    page = registry.events(after=0, limit=500)
    return [e.model_dump() for e in page.items if e.action == action]


def test_a_token_authenticates_as_its_person_with_its_scopes(registry: Registry) -> None:
    created = registry.create_token({"name": "ci", "scopes": ["read"]}, principal=ADA)
    assert created.token.startswith(f"mat_{created.token_id}_")
    principal = registry.authenticate(created.token, client="10.0.0.1")
    assert (principal.kind, principal.person, principal.token_id) == (
        "token", "ada", created.token_id)
    assert principal.scopes == {"read"}
    assert created.status == "active" and created.scopes == ["read"]


def test_the_secret_is_shown_once_and_stored_only_as_a_hash(registry: Registry) -> None:
    created = registry.create_token({}, principal=ADA)
    # The secret is base64url, so it may hold "_" itself: cut the known prefix off instead.
    secret = created.token.removeprefix(f"mat_{created.token_id}_")
    assert len(secret) == 43
    listed = registry.tokens(principal=ADA)
    assert [t.token_id for t in listed] == [created.token_id]
    assert "token" not in listed[0].model_dump()
    with registry.db.read() as conn:
        row = conn.execute(sa.select(api_tokens)).mappings().one()
    assert secret not in json.dumps(dict(row), default=str)
    created_events = events_of(registry, "token.created")
    assert len(created_events) == 1
    text = json.dumps(created_events)
    assert secret not in text and row["secret_sha256"] not in text
    assert created_events[0]["actor"] == "ada"


def test_defaults_and_limits_of_scopes_and_lifetimes(registry: Registry) -> None:
    created = registry.create_token({}, principal=ADA)
    assert created.scopes == ["read", "write"]
    lifetime = parse_time(created.expires_at) - parse_time(created.created_at)
    assert lifetime.days == 90
    with pytest.raises(InvalidInput, match="unknown scope"):
        registry.create_token({"scopes": ["root"]}, principal=ADA)
    with pytest.raises(InvalidInput, match="365"):
        registry.create_token({"expires_in_days": 366}, principal=ADA)
    with pytest.raises(InvalidInput, match="secret"):
        registry.create_token({"secret": "chosen"}, principal=ADA)


def test_a_token_cannot_mint_a_broader_token(registry: Registry) -> None:
    reader = registry.authenticate(
        registry.create_token({"scopes": ["read"]}, principal=ADA).token)
    with pytest.raises(InvalidInput, match="scopes it does not hold"):
        registry.create_token({"scopes": ["read", "write"]}, principal=reader)
    assert registry.create_token({"scopes": ["read"]}, principal=reader).person == "ada"


def test_a_revoked_token_no_longer_authenticates(registry: Registry) -> None:
    created = registry.create_token({}, principal=ADA)
    revoked = registry.revoke_token(created.token_id, principal=ADA)
    assert revoked.status == "revoked" and revoked.revoked_by == "ada"
    assert registry.revoke_token(created.token_id, principal=ADA).status == "revoked"
    assert len(events_of(registry, "token.revoked")) == 1  # revoking twice logs once
    with pytest.raises(Unauthenticated, match="revoked"):
        registry.authenticate(created.token, client="10.0.0.2")


def test_nobody_revokes_or_lists_another_persons_token(registry: Registry) -> None:
    created = registry.create_token({}, principal=ADA)
    bob = Principal(kind="user", person="bob")
    with pytest.raises(NotFound):
        registry.revoke_token(created.token_id, principal=bob)
    assert registry.tokens(principal=bob) == []
    # the embedded single-user principal sees and manages every token
    assert [t.token_id for t in registry.tokens()] == [created.token_id]


def test_an_expired_token_is_refused(registry: Registry) -> None:
    created = registry.create_token({"expires_in_days": 1}, principal=ADA)
    with registry.db.write() as conn:
        conn.execute(api_tokens.update().values(expires_at="2020-01-01T00:00:00.000000Z"))
    with pytest.raises(Unauthenticated, match="expired"):
        registry.authenticate(created.token, client="10.0.0.3")
    assert registry.tokens(principal=ADA)[0].status == "expired"


def test_last_use_is_recorded_at_most_hourly(registry: Registry) -> None:
    created = registry.create_token({}, principal=ADA)
    registry.authenticate(created.token)
    first = registry.tokens(principal=ADA)[0].last_used_at
    assert first is not None
    registry.authenticate(created.token)
    assert registry.tokens(principal=ADA)[0].last_used_at == first


def test_a_wrong_secret_fails_like_an_unknown_id_and_is_logged_without_it(
        registry: Registry) -> None:
    created = registry.create_token({}, principal=ADA)
    wrong = created.token[:-4] + ("AAAA" if not created.token.endswith("AAAA") else "BBBB")
    unknown = "mat_0123456789abcdef_" + "x" * 43
    with pytest.raises(Unauthenticated) as first:
        registry.authenticate(wrong, client="192.0.2.7")
    with pytest.raises(Unauthenticated) as second:
        registry.authenticate(unknown, client="192.0.2.7")
    assert first.value.detail == second.value.detail == "the token is not valid"
    failures = events_of(registry, "auth.failed")
    assert [f["payload"] for f in failures] == [
        {"reason": "the token is not valid", "client": "192.0.2.7",
         "token_id": created.token_id},
        {"reason": "the token is not valid", "client": "192.0.2.7",
         "token_id": "0123456789abcdef"}]
    assert wrong not in json.dumps(failures) and "x" * 43 not in json.dumps(failures)
    assert failures[0]["actor"] == "anonymous"


def test_failures_are_rate_limited_per_client(registry: Registry) -> None:
    limit = registry.settings.auth_failures_per_minute
    good = registry.create_token({}, principal=ADA).token
    for _ in range(limit):
        with pytest.raises(Unauthenticated):
            registry.authenticate("mat_bad", client="203.0.113.9")
    # past the limit the address is refused outright, even with a good token, and the
    # log stops growing
    for presented in ("mat_bad", good):
        with pytest.raises(TooManyRequests):
            registry.authenticate(presented, client="203.0.113.9")
    assert len(events_of(registry, "auth.failed")) == limit
    # another address is not affected
    assert registry.authenticate(good, client="203.0.113.10").person == "ada"


def test_a_jwt_without_an_oidc_provider_is_refused(registry: Registry) -> None:
    with pytest.raises(Unauthenticated, match="not an API token"):
        registry.authenticate("eyJhbGciOiJSUzI1NiJ9.e30.sig", client="10.0.0.4")
