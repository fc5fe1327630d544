"""Marking a field sensitive seals the values already stored (a model version's metadata is
never written again, so "on the next write" would be never), and unmarking one puts its
values back: one transaction with the change, on both backends."""

from __future__ import annotations

import sqlalchemy as sa

from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry
from modelatlas.registry.types import VersionRegistration

SECRET = "quokkavault"
LOCATION = f"s3://{SECRET}/tx"
CONTACT = f"owner@{SECRET}.example"
DATASET = "dataset:fin/tx@1"
VERSION = "model_version:fin/churn@1"
MAE = Principal(kind="user", person="mae")  # maintainer: sees plaintext
VIC = Principal(kind="user", person="vic")  # viewer: sees the marker once sealed


def _stored(registry: Registry) -> str:
    with registry.db.read() as conn:
        rows = conn.execute(sa.text("SELECT meta, custom FROM assets")).all()
    return repr([tuple(row) for row in rows])


def _resealed(registry: Registry) -> list[int]:
    """How many rows each change of sensitive fields resealed, as its event says."""
    return [e.payload["assets_resealed"] for e in registry.events(limit=500).items
            if e.action == "namespace.sensitive_fields_set"]


def test_fields_marked_later_are_sealed_and_unmarked_ones_come_back(
        registry: Registry) -> None:
    for person, role in (("mae", "maintainer"), ("vic", "viewer")):
        registry.grant_role("fin", {"principal_type": "user", "principal_name": person,
                                    "role": role})
    registry.create_asset(AssetCreate(ref=DATASET, metadata={"location": LOCATION},
                                      custom={"contact": CONTACT, "team": "risk"}))
    registry.register_version("fin", "churn", VersionRegistration(
        datasets=[DATASET], custom={"contact": CONTACT}))
    assert registry.get_asset(VERSION, principal=VIC).custom["contact"] == CONTACT
    revisions = {ref: registry.get_asset(ref).revision for ref in (DATASET, VERSION)}

    registry.set_sensitive_fields("fin", "dataset",
                                  {"fields": ["metadata.location", "custom.contact"]})
    registry.set_sensitive_fields("fin", "model_version", {"fields": ["custom.contact"]})
    assert SECRET not in _stored(registry)
    assert registry.search(SECRET).items == []  # the index followed the rows
    seen = registry.get_asset(DATASET, principal=VIC)
    assert (seen.metadata["location"], seen.custom) == (
        "[redacted]", {"contact": "[redacted]", "team": "risk"})
    assert registry.get_asset(VERSION, principal=VIC).custom["contact"] == "[redacted]"
    assert registry.get_asset(VERSION, principal=MAE).custom["contact"] == CONTACT
    opened = registry.get_asset(DATASET, principal=MAE)
    assert (opened.metadata["location"], opened.custom["contact"]) == (LOCATION, CONTACT)
    assert {ref: registry.get_asset(ref).revision for ref in revisions} == revisions
    assert _resealed(registry) == [1, 1]

    # setting the same fields again changes no row; dropping one puts its values back
    registry.set_sensitive_fields("fin", "model_version", {"fields": ["custom.contact"]})
    registry.set_sensitive_fields("fin", "dataset", {"fields": ["metadata.location"]})
    seen = registry.get_asset(DATASET, principal=VIC)
    assert (seen.metadata["location"], seen.custom["contact"]) == ("[redacted]", CONTACT)
    assert registry.get_asset(DATASET, principal=MAE).metadata["location"] == LOCATION
    assert LOCATION not in _stored(registry) and CONTACT in _stored(registry)
    assert _resealed(registry) == [1, 1, 0, 1]
