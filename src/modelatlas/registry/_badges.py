"""Badges for a list of assets (a search page's rows), mixed into :class:`Registry`.

A results page shows, per row, whether the version is deprecated, needs revalidation, has a
verified attestation and complete lineage. Asking :meth:`deprecation`,
:meth:`revalidation_marks`, :meth:`attestations` and :meth:`provenance_report` per row
would cost several queries a row; :meth:`badges` answers for the whole page in a fixed
handful (one per fact), whatever its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field

from modelatlas.errors import InvalidInput
from modelatlas.governance.grants import readable_clause
from modelatlas.lineage.metrics import complete_versions
from modelatlas.refs import Ref
from modelatlas.registry._attestations import REGISTRY_SIGNER
from modelatlas.registry._service_base import ServiceBase
from modelatlas.registry._visibility import readable_in
from modelatlas.store.tables import (
    assets,
    attestations,
    deprecations,
    revalidation_marks,
    signing_keys,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from modelatlas.governance.principal import Principal

MAX_BADGE_REFS = 200
AttestationStatus = Literal["none", "verified", "key_revoked"]


class AssetBadges(BaseModel):
    """What a list shows beside an asset (facts of model versions are empty or ``None``
    for other kinds)."""

    ref: str
    state: str
    deprecated: bool = Field(
        default=False, description="a deprecation plan is announced, or the state is deprecated")
    sunset_at: str | None = Field(default=None, description="the plan's sunset, if any")
    revalidation: list[str] = Field(
        default_factory=list, description="the causes of open revalidation marks")
    attestation: AttestationStatus = Field(
        default="none", description="as ``attestations(ref).status``")
    lineage_complete: bool | None = Field(
        default=None, description="model versions: as ``provenance_report(ref).complete``")


class BadgeService(ServiceBase):
    """Mixed into :class:`modelatlas.registry.Registry`."""

    def badges(self, refs: Sequence[str | Ref], *,
               principal: Principal | None = None) -> dict[str, AssetBadges]:
        """The badges of each of ``refs`` (at most 200) the caller may read, by ref; refs
        that do not exist or that the caller may not read are left out, as search leaves
        them out."""
        if len(refs) > MAX_BADGE_REFS:
            raise InvalidInput.at("/refs", f"at most {MAX_BADGE_REFS} refs")
        parsed = [Ref.coerce(ref, path=f"/refs/{i}") for i, ref in enumerate(refs)]
        with self.db.read() as conn:
            rows = _readable_rows(conn, parsed, principal)
            found = {row.id: AssetBadges(ref=str(ref), state=row.state)
                     for ref, row in rows.items()}
            versions = [row.id for row in rows.values() if row.kind == "model_version"]
            if versions:
                _fill(conn, found, versions)
        return {badges.ref: badges for badges in found.values()}


def _readable_rows(conn: Connection, refs: list[Ref],
                   principal: Principal | None) -> dict[Ref, Any]:
    """The rows of ``refs`` the caller may read (the search filter, in the statement)."""
    by_key = {(r.kind, r.namespace, r.name, r.version or ""): r for r in refs}
    if not by_key:
        return {}
    key = sa.tuple_(assets.c.kind, assets.c.namespace, assets.c.name, assets.c.version)
    stmt = sa.select(assets.c.id, assets.c.kind, assets.c.namespace, assets.c.name,
                     assets.c.version, assets.c.state).where(key.in_(list(by_key)))
    readable = readable_in(conn, principal)
    if not readable.everything:
        stmt = stmt.where(readable_clause(readable, assets))
    return {by_key[(row.kind, row.namespace, row.name, row.version)]: row
            for row in conn.execute(stmt)}


def _fill(conn: Connection, found: dict[int, AssetBadges], versions: list[int]) -> None:
    """The model-version facts, one query each."""
    for asset_id, sunset in conn.execute(
            sa.select(deprecations.c.asset_id, deprecations.c.sunset_at)
            .where(deprecations.c.asset_id.in_(versions))):
        found[asset_id].deprecated = True
        found[asset_id].sunset_at = str(sunset)
    for badges in found.values():
        badges.deprecated = badges.deprecated or badges.state == "deprecated"
    for asset_id, cause in conn.execute(
            sa.select(revalidation_marks.c.asset_id, revalidation_marks.c.cause_ref)
            .where(revalidation_marks.c.asset_id.in_(versions))
            .order_by(revalidation_marks.c.asset_id, revalidation_marks.c.cause_ref)):
        found[asset_id].revalidation.append(cause)
    for asset_id, status in _attestation_status(conn, versions).items():
        found[asset_id].attestation = status
    complete = complete_versions(conn, versions)
    for asset_id in versions:
        found[asset_id].lineage_complete = asset_id in complete


def _attestation_status(conn: Connection, ids: list[int]) -> dict[int, AttestationStatus]:
    """``attestations(ref).status`` per asset: verified when one attestation is the
    registry's own or has a signing key that its namespace has not revoked."""
    rows = conn.execute(
        sa.select(attestations.c.asset_id, attestations.c.signer, attestations.c.key_ids,
                  assets.c.namespace)
        .join(assets, assets.c.id == attestations.c.asset_id)
        .where(attestations.c.asset_id.in_(ids))
    ).all()
    if not rows:
        return {}
    revoked = {(ns, key) for ns, key in conn.execute(
        sa.select(signing_keys.c.namespace, signing_keys.c.key_id)
        .where(signing_keys.c.namespace.in_({row.namespace for row in rows}),
               signing_keys.c.revoked_at.is_not(None)))}
    status: dict[int, AttestationStatus] = {}
    for row in rows:
        alive = row.signer == REGISTRY_SIGNER or any(
            (row.namespace, key) not in revoked for key in row.key_ids)
        if alive:
            status[row.asset_id] = "verified"
        else:
            status.setdefault(row.asset_id, "key_revoked")
    return status
