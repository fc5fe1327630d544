"""Discovery under access control, in the service layer on both backends: the same data
searched, counted, completed and related by callers of different roles gives different
hits, facet counts, pages and suggestions; graph predicates do not confirm assets the
caller may not read; usage is learned only about readable assets; the vocabulary is open
to read and changed only with a registry-wide role.

    namespace fraud (some callers hold roles here)
      dataset:fraud/txns@1
      model_version:fraud/churn@1   trained on fraud/txns@1   tags promoted, tier-1   xgboost
      model_version:fraud/churn@2   trained on secret/leak@1  tag tier-1              pytorch
    namespace secret (only sam and the registry-wide callers)
      dataset:secret/leak@1
      model_version:secret/spy@1    trained on secret/leak@1  tag qq-covert           sklearn
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from modelatlas.errors import Forbidden, NotFound
from modelatlas.governance.principal import Principal
from modelatlas.registry import AssetCreate, Registry, VersionRegistration
from modelatlas.store.tables import asset_usage, assets

CHURN1, CHURN2 = "model_version:fraud/churn@1", "model_version:fraud/churn@2"
SPY = "model_version:secret/spy@1"
LEAK = "dataset:secret/leak@1"
EVERY_VERSION = {CHURN1, CHURN2, SPY}


def _user(person: str, *groups: str) -> Principal:
    return Principal(kind="user", person=person, groups=frozenset(groups))


def _read_token(person: str) -> Principal:
    """What authenticating a ``read``-scoped API token of ``person`` yields."""
    return Principal(kind="token", person=person, token_id=f"tok-{person}",
                     scopes=frozenset({"read"}))


# who -> (principal, versions seen; versions seen when fraud shows only promoted versions
# below maintainer). None: the local user.
CALLERS: dict[str, tuple[Principal | None, set[str], set[str]]] = {
    "local": (None, EVERY_VERSION, EVERY_VERSION),
    "viewer": (_user("vic"), {CHURN1, CHURN2}, {CHURN1}),
    "contributor": (_user("cora"), {CHURN1, CHURN2}, {CHURN1}),
    "maintainer": (_user("max"), {CHURN1, CHURN2}, {CHURN1, CHURN2}),
    "admin": (_user("ada"), {CHURN1, CHURN2}, {CHURN1, CHURN2}),
    "no role": (_user("nobody"), set(), set()),
    "group viewer": (_user("gus", "fraud-team"), {CHURN1, CHURN2}, {CHURN1}),
    "read token of a maintainer": (_read_token("max"), {CHURN1, CHURN2}, {CHURN1, CHURN2}),
    "viewer everywhere": (_user("wendy"), EVERY_VERSION, {CHURN1, SPY}),
    "secret admin, fraud viewer": (_user("sam"), EVERY_VERSION, {CHURN1, SPY}),
}
GRANTS = [("fraud", "user", "vic", "viewer"), ("fraud", "user", "cora", "contributor"),
          ("fraud", "user", "max", "maintainer"), ("fraud", "user", "ada", "admin"),
          ("fraud", "group", "fraud-team", "viewer"), ("*", "user", "wendy", "viewer"),
          ("secret", "user", "sam", "admin"), ("fraud", "user", "sam", "viewer"),
          ("*", "user", "tess", "maintainer")]


def _build_org(registry: Registry) -> None:
    registry.create_asset(AssetCreate(ref="dataset:fraud/txns@1", tags=["pii"]))
    registry.create_asset(AssetCreate(ref=LEAK, tags=["pii"]))
    for namespace, name, dataset, tags, framework in [
            ("fraud", "churn", "dataset:fraud/txns@1", ["promoted", "tier-1"], "xgboost"),
            ("fraud", "churn", LEAK, ["tier-1"], "pytorch"),
            ("secret", "spy", LEAK, ["qq-covert"], "sklearn")]:
        registry.register_version(namespace, name, VersionRegistration(
            datasets=[dataset], tags=tags, metadata={"framework": framework}))
    for namespace, kind, name, role in GRANTS:
        registry.grant_role(namespace, {"principal_type": kind, "principal_name": name,
                                        "role": role})


@pytest.fixture
def org(worlds: Callable[..., tuple[Registry, None]]) -> Registry:
    return worlds(_build_org)[0]


def _promoted_only(registry: Registry) -> None:
    registry.set_namespace_policy("fraud", {"contributors_read_promoted_only": True})


def _refs(items: list[Any]) -> set[str]:
    return {a.ref for a in items}


def _denials(registry: Registry) -> list[tuple[str, str, str]]:
    return [(e.actor, e.payload["action"], e.ref) for e in registry.events(limit=500).items
            if e.action == "access.denied"]


@pytest.mark.parametrize("promoted_only", [False, True], ids=["open", "promoted-only"])
@pytest.mark.parametrize("who", list(CALLERS))
def test_hits_pages_and_facets_cover_only_what_the_caller_may_read(
        org: Registry, who: str, promoted_only: bool) -> None:
    principal, seen, seen_promoted = CALLERS[who]
    if promoted_only:
        _promoted_only(org)
    expected = seen_promoted if promoted_only else seen
    result = org.search("kind:model_version", facets=["namespace", "tag", "dataset"],
                        principal=principal)
    assert _refs(result.items) == expected
    # one version per page: the cursor walks exactly the readable hits
    paged, cursor = [], None
    for _ in range(5):
        page = org.search("kind:model_version", facets=[], limit=1, cursor=cursor,
                          principal=principal)
        paged += [a.ref for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(paged) == sorted(expected)
    counts = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    namespaces: dict[str, int] = {}
    for ref in expected:
        ns = ref.split(":")[1].split("/")[0]
        namespaces[ns] = namespaces.get(ns, 0) + 1
    assert counts["namespace"] == namespaces
    assert counts["tag"].get("tier-1", 0) == len(expected & {CHURN1, CHURN2})
    assert counts["tag"].get("qq-covert", 0) == len(expected & {SPY})
    # a dataset is named only to a caller who may read it (leak is in secret)
    reads_secret = who in ("local", "viewer everywhere", "secret admin, fraud viewer")
    leak_uses = len(expected & {CHURN2, SPY}) if reads_secret else 0
    assert counts["dataset"].get(LEAK, 0) == leak_uses
    assert _denials(org) == []  # filtering is not a denied attempt


@pytest.mark.parametrize("who, hits", [
    ("local", {CHURN2, SPY}),
    ("secret admin, fraud viewer", {CHURN2, SPY}),
    # churn@2 is readable and was trained on leak, but answering would confirm leak exists
    ("viewer", set()),
    ("no role", set()),
])
def test_a_graph_predicate_does_not_confirm_an_unreadable_target(
        org: Registry, who: str, hits: set[str]) -> None:
    principal = CALLERS[who][0]
    for q in (f"trained_on:{LEAK}", "trained_on:dataset:secret/leak",
              f"trained_on*:{LEAK}"):
        assert _refs(org.search(q, facets=[], principal=principal).items) == hits, q
    # a readable target still answers for that caller
    fraud = org.search("trained_on:dataset:fraud/txns@1", facets=[], principal=principal)
    assert _refs(fraud.items) == ({CHURN1} if who != "no role" else set())


SUGGESTIONS = [
    # (typed, the completion only readers of secret get)
    ("sp", "spy"),
    ("model:sec", "model:secret/spy"),
    ("model_version:secret/spy@", "model_version:secret/spy@1"),
    ("namespace:", "namespace:secret"),
    ("tag:qq", "tag:qq-covert"),
    ("meta.framework:", "meta.framework:sklearn"),
]


@pytest.mark.parametrize("who", ["local", "viewer", "no role", "viewer everywhere",
                                 "read token of a maintainer"])
def test_suggestions_come_only_from_readable_assets(org: Registry, who: str) -> None:
    principal = CALLERS[who][0]
    reads_secret = who in ("local", "viewer everywhere")
    for typed, secret in SUGGESTIONS:
        texts = [s.text for s in org.suggest(typed, limit=50, principal=principal)]
        assert (secret in texts) is reads_secret, (typed, texts)
    fraud = [s.text for s in org.suggest("namespace:", limit=50, principal=principal)]
    assert ("namespace:fraud" in fraud) is (who != "no role")
    names = [s.text for s in org.suggest("chu", limit=50, principal=principal)]
    assert ("churn" in names) is (who != "no role")


def test_promoted_only_hides_unpromoted_versions_from_completions(org: Registry) -> None:
    _promoted_only(org)
    viewer, maintainer = CALLERS["viewer"][0], CALLERS["maintainer"][0]
    typed = "model_version:fraud/churn@"
    assert [s.text for s in org.suggest(typed, principal=viewer)] == [CHURN1]
    assert {s.text for s in org.suggest(typed, principal=maintainer)} == {CHURN1, CHURN2}
    # churn@2's framework is no longer among the values the viewer is offered
    values = {s.text for s in org.suggest("meta.framework:", principal=viewer)}
    assert "meta.framework:xgboost" in values and "meta.framework:pytorch" not in values


def test_related_assets_are_readable_and_name_no_unreadable_asset(org: Registry) -> None:
    everything = {r.asset.ref: r for r in org.related(CHURN2)}
    assert SPY in everything  # shares leak
    assert f"shares {LEAK}" in everything[SPY].reasons
    viewer = CALLERS["viewer"][0]
    seen = {r.asset.ref: r for r in org.related(CHURN2, principal=viewer)}
    assert SPY not in seen and CHURN1 in seen
    assert all("secret" not in reason for r in seen.values() for reason in r.reasons)
    assert _denials(org) == []


@pytest.mark.parametrize("who", ["viewer", "no role", "group viewer"])
def test_related_of_an_unreadable_asset_is_a_recorded_404(org: Registry, who: str) -> None:
    principal = CALLERS[who][0]
    assert principal is not None
    with pytest.raises(NotFound) as missing:
        org.related(SPY, principal=principal)
    with pytest.raises(NotFound) as absent:
        org.related("model_version:secret/none@1", principal=principal)
    assert str(missing.value) == str(SPY + " does not exist")
    assert type(missing.value) is type(absent.value)
    assert _denials(org) == [(principal.actor, "asset.read", SPY)]


def _usage_of(registry: Registry, ref: str) -> float | None:
    kind, rest = ref.split(":", 1)
    namespace, rest = rest.split("/", 1)
    name, _, version = rest.partition("@")
    with registry.db.read() as conn:
        return conn.scalar(sa.select(asset_usage.c.score).join(
            assets, assets.c.id == asset_usage.c.asset_id).where(
            assets.c.kind == kind, assets.c.namespace == namespace, assets.c.name == name,
            assets.c.version == (version or None)))


def test_usage_is_learned_only_about_readable_assets(org: Registry) -> None:
    viewer = CALLERS["viewer"][0]
    assert viewer is not None
    org.record_usage("opened", CHURN1, principal=viewer)
    with pytest.raises(NotFound):
        org.record_usage("pulled", SPY, principal=viewer)
    assert _denials(org) == [("vic", "asset.read", SPY)]
    org.search(f"trained_on:{LEAK} OR trained_on:dataset:fraud/txns@1", principal=viewer)
    org.flush_usage()
    assert _usage_of(org, CHURN1) is not None
    assert _usage_of(org, SPY) is None and _usage_of(org, LEAK) is None
    assert _usage_of(org, "dataset:fraud/txns@1") is not None
    org.search(f"trained_on:{LEAK}")  # the local user's search does teach
    org.flush_usage()
    assert _usage_of(org, LEAK) is not None


TAXONOMY = [
    # (who, may change the vocabulary)
    (None, True),
    (_user("tess"), True),  # maintainer on *
    (_user("wendy"), False),  # viewer on *
    (_user("ada"), False),  # admin of one namespace only
    (_read_token("tess"), False),  # the token is narrowed to read
    (_user("nobody"), False),
]


@pytest.mark.parametrize("principal, allowed", TAXONOMY,
                         ids=["local", "maintainer *", "viewer *", "fraud admin",
                              "read token of maintainer *", "no role"])
def test_the_vocabulary_is_open_to_read_and_changed_with_a_registry_wide_role(
        org: Registry, principal: Principal | None, allowed: bool) -> None:
    org.set_term("vision")
    org.add_synonym("vision", "cv")
    # reading: anyone
    assert org.get_term("cv", principal=principal).term == "vision"
    assert [t.term for t in org.taxonomy_terms(principal=principal).items] == ["vision"]
    assert "cv" in org.expand_tag("vision", principal=principal).tags
    changes = [
        lambda: org.set_term("nlp", principal=principal),
        lambda: org.add_synonym("vision", "sight", principal=principal),
        lambda: org.remove_synonym("cv", principal=principal),
        lambda: org.load_vocabulary({"terms": [{"term": "audio"}]},
                                    principal=principal),
        lambda: org.remove_term("vision", principal=principal),
    ]
    for change in changes:
        if allowed:
            change()
        else:
            with pytest.raises(Forbidden) as refused:
                change()
            assert refused.value.status == 403
    denied = _denials(org)
    if allowed:
        assert denied == []
        names = {t.term for t in org.taxonomy_terms().items}
        assert names == {"nlp", "audio"}
        actors = {e.actor for e in org.events(limit=500).items
                  if e.action.startswith("taxonomy.")}
        expected = principal.actor if principal is not None else "tester"
        assert actors == {"tester", expected}
    else:
        assert principal is not None
        assert [(a, action) for a, action, _ in denied] == [
            (principal.actor, "taxonomy.manage")] * len(changes)
        assert {t.term for t in org.taxonomy_terms().items} == {"vision"}
