"""The demo organisation, seeded once per backend and read back through the registry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelatlas.config import Settings
from modelatlas.demo import DemoSummary, is_empty, seed
from modelatlas.registry import Asset, Registry
from modelatlas.testing import PostgresDatabases, temporary_registry

BACKENDS = ["sqlite", "postgresql"]
# one worker runs the module: its module-scoped seeds (about 10 s each) are made once a run
pytestmark = pytest.mark.xdist_group("demo")


class Seeded:
    def __init__(self, registry: Registry, summary: DemoSummary,
                 progress: list[tuple[int, int]]) -> None:
        self.registry = registry
        self.summary = summary
        self.progress = progress
        self.assets = _all_assets(registry)

    def of_kind(self, kind: str) -> list[Asset]:
        return [a for a in self.assets if a.kind == kind]

    def targets(self, ref: str, relation: str) -> list[str]:
        page = self.registry.relations(ref, direction="out", relation=relation)
        return [r.target for r in page.items]


def _all_assets(registry: Registry) -> list[Asset]:
    assets: list[Asset] = []
    cursor = None
    while True:
        page = registry.list_assets(cursor=cursor, limit=500)
        assets += page.items
        if page.next_cursor is None:
            return assets
        cursor = page.next_cursor


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases | None,
) -> Iterator[Seeded]:
    """One seeded registry per backend, shared by this module's read-only tests (seeding
    writes ~800 transactions; doing it per test would dominate the suite)."""
    home = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{home / 'registry.db'}"
    if request.param == "postgresql":
        if postgres_databases is None:
            pytest.skip("no PostgreSQL server: set MODELATLAS_TEST_POSTGRES_URL")
        url = postgres_databases.create()
    registry = Registry.open(Settings(home=home, database_url=url, actor="tester"))
    assert is_empty(registry)
    progress: list[tuple[int, int]] = []
    summary = seed(registry, seed=7, progress=lambda done, total: progress.append((done, total)))
    yield Seeded(registry, summary, progress)
    registry.close()
    if request.param == "postgresql" and postgres_databases is not None:
        postgres_databases.drop(url)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Asset]]:
    """The same seed written to a separate SQLite registry."""
    with temporary_registry(home=tmp_path_factory.mktemp("ref")) as registry:
        seed(registry, seed=7)
        yield _all_assets(registry)


def test_counts_meet_the_brief(seeded: Seeded) -> None:
    kinds = Counter(a.kind for a in seeded.assets)
    series = {kind: {(a.namespace, a.name) for a in seeded.of_kind(kind)} for kind in kinds}
    assert len({a.namespace for a in seeded.assets}) >= 4
    assert len(series["dataset"]) >= 30
    assert kinds["dataset"] > len(series["dataset"])  # several versions each
    assert len(series["feature"]) >= 15
    assert kinds["run"] >= 60
    assert kinds["model"] >= 40
    assert kinds["model_version"] >= 120
    assert kinds["schema"] >= 30 and kinds["environment"] >= 4 and kinds["code"] >= 40
    assert kinds["evaluation"] >= 40 and kinds["deployment"] >= 40
    assert dict(kinds) == seeded.summary.assets
    assert not is_empty(seeded.registry)


def test_progress_counts_every_step_once(seeded: Seeded) -> None:
    done = [d for d, _ in seeded.progress]
    total = {t for _, t in seeded.progress}
    assert done == list(range(1, len(done) + 1))
    assert total == {len(done)}


def test_model_versions_carry_their_lineage_and_figures(seeded: Seeded) -> None:
    ref = "model_version:fraud/card-fraud-detector@2"
    version = seeded.registry.get_asset(ref)
    assert {"auc", "f1", "precision", "recall", "latency_p95_ms"} <= set(
        version.metadata["metrics"]
    )
    assert version.metadata["artifacts"][0]["uri"].startswith("s3://acme-models/fraud/")
    produced_by = seeded.registry.relations(ref, direction="in", relation="produced").items
    run = seeded.registry.get_asset(produced_by[0].source)
    assert run.metadata["parameters"]["max_depth"] >= 4
    assert {"python", "numpy"} <= set(run.metadata["seeds"])
    used = seeded.targets(run.ref, "used")
    assert "dataset:finance/transactions@3" in used
    assert any(t.startswith("code:fraud/card-fraud-detector@") for t in used)
    assert "environment:platform/py311-xgboost@2024.05" in used
    assert "feature:fraud/txn-aggregates@2" in seeded.targets(ref, "requires")


def test_environments_pin_packages_and_gpu_ones_name_cuda(seeded: Seeded) -> None:
    environments = seeded.of_kind("environment")
    assert any("numpy==1.26.4" in e.metadata["packages"] for e in environments)
    gpu = [e for e in environments if e.metadata["accelerator"] == "gpu"]
    assert gpu and all(e.metadata.get("cuda") for e in gpu)
    assert all(e.digests.get("sha256") for e in environments)


def test_datasets_conform_to_typed_schemas_and_features_derive_from_them(seeded: Seeded) -> None:
    schema_ref = seeded.targets("dataset:finance/transactions@4", "conforms_to")
    assert schema_ref == ["schema:finance/transactions@1"]
    fields = seeded.registry.get_asset(schema_ref[0]).metadata["fields"]
    assert {"name": "amount", "type": "decimal(12,2)", "nullable": False} in fields
    for feature in seeded.of_kind("feature"):
        parents = seeded.targets(feature.ref, "derived_from")
        assert parents and all(p.startswith("dataset:") for p in parents)


def test_evaluations_hold_slices_fairness_and_drift(seeded: Seeded) -> None:
    evaluations = seeded.of_kind("evaluation")
    assert all(e.metadata["slices"] for e in evaluations)
    fair = [e for e in evaluations if e.metadata["fairness"]]
    assert fair, "regulated models get fairness checks"
    assert any(e.metadata["drift"] for e in evaluations)
    check = fair[0]
    assert len(seeded.targets(check.ref, "evaluated")) == 1
    assert seeded.targets(check.ref, "evaluated_on")[0].startswith("dataset:")
    for e in fair:
        assert e.metadata["passed"] == all(c["passed"] for c in e.metadata["fairness"])


def test_deployments_serve_the_version_in_production(seeded: Seeded) -> None:
    deployments = seeded.of_kind("deployment")
    assert {"active", "retired"} <= {d.state for d in deployments}
    for deployment in deployments:
        if deployment.name.endswith("-prod"):
            served = seeded.targets(deployment.ref, "serves")
            assert seeded.registry.get_asset(served[0]).state == "production"


def test_fine_tuned_versions_derive_from_their_base(seeded: Seeded) -> None:
    parents = seeded.targets("model_version:platform/support-reply-llm-de@1", "derived_from")
    assert parents and parents[0].startswith("model_version:platform/support-reply-llm@")


def _content(assets: list[Asset]) -> dict[str, Any]:
    keep = ("state", "metadata", "custom", "tags", "owners", "description", "digests",
            "created_by")
    return {a.ref: {k: getattr(a, k) for k in keep} for a in assets}


def test_a_seed_always_gives_the_same_organisation(
    seeded: Seeded, reference: list[Asset]
) -> None:
    assert _content(seeded.assets) == _content(reference)


def test_another_seed_gives_other_figures(tmp_path: Path, reference: list[Asset]) -> None:
    with temporary_registry(home=tmp_path) as registry:
        seed(registry, seed=8)
        other = _content(_all_assets(registry))
    mine = _content(reference)
    charter = ("model:", "model_version:", "dataset:", "feature:", "schema:")
    assert {r for r in other if r.startswith(charter)} == {
        r for r in mine if r.startswith(charter)
    }  # the same organisation chart ...
    ref = "model_version:risk/credit-default-pd@1"
    assert other[ref]["metadata"]["metrics"] != mine[ref]["metadata"]["metrics"]  # ... figures


def test_the_governance_story_populates_every_page(seeded: Seeded) -> None:
    registry, showcase = seeded.registry, "model_version:fraud/card-fraud-detector@{}"
    [request] = registry.approval_inbox().items  # the local user may review it
    assert (request.ref, request.requested_by, request.authored_by_you) == (
        showcase.format(3), "amara.okafor", False)
    status = registry.promotion_status("fraud", "card-fraud-detector", 3)
    assert status.open_request and [(c.name, c.met) for c in status.conditions] == [
        ("approvals", False), ("evaluation", True)]
    kinds = {r.kind for v in (2, 3) for r in
             registry.version_reviews("fraud", "card-fraud-detector", v).items}
    assert {"release_note", "comment", "request"} <= kinds
    assert registry.get_alias("fraud", "card-fraud-detector", "champion").ref == \
        showcase.format(2)
    assert registry.attestations(showcase.format(2)).status == "verified"
    deprecated = seeded.of_kind("model_version")
    plans = [registry.deprecation(v.ref) for v in deprecated if v.state == "deprecated"]
    assert plans and all(p.replacement for p in plans)
    marked = {m.ref for m in registry.revalidation_marks().items}
    assert showcase.format(2) in marked
