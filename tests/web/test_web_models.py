"""The model, version and asset pages: versions and their metric comparison, a version's
requirements, evaluations, deployments, reviews and deprecation, and every page's audit
trail with the server's inclusion-proof verdict per event."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from web_site import Site

from modelatlas.governance import Principal
from modelatlas.registry import Asset, Registry
from modelatlas.registry.lifecycle_types import CommentIn, StageChange
from modelatlas.web._model_views import lower_is_better, metric_table

MODEL = "/models/fraud/card-fraud-detector"
FAIR = "fraud/aml-transaction-monitor"  # a demo model with fairness checks
ADA = Principal(kind="user", person="ada")


@pytest.fixture(scope="module")
def site(demo_site: Site) -> Iterator[Site]:
    """The module's demo with a signed checkpoint covering everything the demo wrote."""
    demo_site.registry.audit_checkpoint()
    yield demo_site


def _served_version(registry: Registry, deployment: str) -> str:
    """The version number a demo deployment serves (the demo's stages are random)."""
    serves = registry.relations(deployment, direction="out", relation="serves")
    return serves.items[0].target.rpartition("@")[2]


def test_model_page_compares_the_metrics_of_chosen_versions(site: Site, page: Page) -> None:
    page.goto(f"{site.url}{MODEL}")
    expect(page.get_by_role("heading", level=1)).to_have_text("fraud/card-fraud-detector")
    versions = page.locator("table.model-versions tbody tr")
    expect(versions).to_have_count(3)
    expect(versions.first.locator(".badge")).to_have_text("archived")  # version 1
    compare = page.locator("table.metric-compare")
    expect(compare.locator("thead th")).to_have_count(4)  # metric + three versions
    auc = compare.locator("tbody tr", has_text="auc")
    expect(auc.locator("mark.metric-best")).to_have_count(1)
    page.get_by_label("Compare version 1").check()
    page.get_by_label("Compare version 3").check()
    page.get_by_role("button", name="Compare selected versions").click()
    expect(page).to_have_url(f"{site.url}{MODEL}?compare=1&compare=3")
    expect(compare.locator("thead th")).to_have_text(["Metric", "v1", "v3"])
    expect(page.get_by_label("Compare version 3")).to_be_checked()
    latency = compare.locator("tbody tr", has_text="latency_p95_ms")
    expect(latency).to_contain_text("lower is better")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_version_page_shows_checks_evaluations_deployments_and_proofs(
        site: Site, page: Page) -> None:
    namespace, name = FAIR.split("/")
    number = _served_version(site.registry, f"deployment:{FAIR}-prod")
    page.goto(f"{site.url}/models/{FAIR}/versions/{number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"version {number}")
    requirements = page.locator("table.requirements")
    expect(requirements).to_contain_text("requirements.txt")
    expect(requirements.locator(".badge", has_text="satisfied").first).to_be_visible()
    expect(page.get_by_text("Checked against")).to_contain_text("environment:platform/")
    evaluations = page.locator("article.evaluation")
    expect(evaluations.first.get_by_role("columnheader", name="Slice")).to_be_visible()
    fairness = evaluations.first.locator("table", has_text="demographic_parity")
    expect(fairness).to_contain_text("equal_opportunity")
    deployments = page.locator("section", has=page.get_by_role("heading", name="Deployments"))
    expect(deployments.get_by_role("link", name=f"deployment:{FAIR}-prod")).to_be_visible()
    trail = page.locator("#trail")
    expect(trail.locator(".badge", has_text="verified in checkpoint").first).to_be_visible()
    expect(trail.locator(".badge.bad")).to_have_count(0)
    deployments.get_by_role("link", name=f"deployment:{FAIR}-prod").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{name}-prod")
    expect(page.get_by_role("link", name="Open in the lineage explorer")).to_have_attribute(
        "href", f"/lineage?ref=deployment%3A{namespace}%2F{name}-prod")


def test_asset_pages_link_relations_and_send_models_to_their_pages(site: Site) -> None:
    with httpx.Client(base_url=site.url) as browser:
        dataset = browser.get("/assets/dataset:fraud/labelled-disputes@1")
        assert dataset.status_code == 200
        assert 'href="/assets/schema:fraud/labelled-disputes@1"' in dataset.text  # conforms_to
        assert "verified in checkpoint" in dataset.text
        for ref, page in (("model_version:fraud/card-fraud-detector@2", f"{MODEL}/versions/2"),
                          ("model:fraud/card-fraud-detector", MODEL)):
            moved = browser.get(f"/assets/{ref}", follow_redirects=False)
            assert (moved.status_code, moved.headers["location"]) == (303, page)


def test_unknown_and_unreadable_models_are_the_404_page(
        site_with: Callable[..., Site]) -> None:
    site = site_with(auth_required=True)
    site.registry.grant_role("growth", {"principal_type": "user", "principal_name": "ada",
                                        "role": "viewer"})
    token = site.registry.create_token({"name": "browser"}, principal=ADA).token
    with httpx.Client(base_url=site.url, cookies={"modelatlas_session": token}) as browser:
        assert browser.get("/models/growth/churn-propensity").status_code == 200
        for path in (MODEL, f"{MODEL}/versions/1", "/assets/dataset:fraud/labelled-disputes@1",
                     "/models/growth/no-such-model", "/models/growth/churn-propensity/versions/99"):
            answer = browser.get(path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"].startswith("text/html")
            assert "<h1>Not found</h1>" in answer.text, path


def test_a_deprecated_version_with_notes_and_a_forged_event(fresh_demo: Site,
                                                            page: Page) -> None:
    registry = fresh_demo.registry
    ref = "model_version:fraud/card-fraud-detector@2"
    registry.audit_checkpoint()  # what follows is not checkpointed yet
    registry.set_stage("fraud", "card-fraud-detector", "2",
                       StageChange(stage="staging", release_notes="Fresher disputes."))
    registry.comment_version("fraud", "card-fraud-detector", "2",
                             CommentIn(body="APAC recall dropped, watch it."))
    registry.deprecate(ref, {"sunset": "2099-03-01", "reason": "Misfires on APAC traffic.",
                             "replacement": "model_version:fraud/card-fraud-detector@3"})
    first = registry.history(ref, limit=1).items[0].seq
    _forge_actor(registry, first)
    page.goto(f"{fresh_demo.url}{MODEL}/versions/2")
    banner = page.get_by_role("note").filter(has_text="Deprecated")
    expect(banner).to_contain_text("Misfires on APAC traffic.")
    expect(banner).to_contain_text("2099-03-01")
    expect(banner.get_by_role("link")).to_have_attribute("href", f"{MODEL}/versions/3")
    expect(page.locator(".release-note", has_text="Fresher disputes.")).to_be_visible()
    expect(page.locator("table.reviews")).to_contain_text("APAC recall dropped, watch it.")
    trail = page.locator("#trail tbody tr")
    expect(trail.filter(has_text="mallory").locator(".badge")).to_have_text("proof failed")
    expect(trail.filter(has_text="version.deprecated").locator(".badge")).to_have_text(
        "not yet checkpointed")
    expect(page.locator("#trail .badge", has_text="verified in checkpoint").first).to_be_visible()


def _forge_actor(registry: Registry, seq: int) -> None:
    """What someone with write access to the database could do: rewrite who made an event
    (dropping the append-only triggers first). The stored tree still holds the true leaf."""
    with registry.db.writer.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute(sa.text("UPDATE events SET actor = 'mallory' WHERE seq = :s"), {"s": seq})


def test_the_best_value_follows_each_metric_direction() -> None:
    assert lower_is_better("latency_p95_ms") and lower_is_better("val_rmse")
    assert not lower_is_better("precision") and not lower_is_better("auc")

    def version(n: int, **metrics: float) -> Asset:
        return Asset(ref=f"model_version:a/b@{n}", kind="model_version", namespace="a",
                     name="b", version=str(n), metadata={"metrics": metrics}, state="registered",
                     schema_version=1, revision=1, created_at="", created_by="",
                     updated_at="", updated_by="")

    table = metric_table([version(1, auc=0.9, rmse=0.3), version(2, auc=0.9, rmse=0.2),
                          version(3, rmse=True)])  # a boolean is no measurement
    auc, rmse = table.rows
    assert (auc.name, auc.best, auc.values) == ("auc", frozenset({0, 1}), [0.9, 0.9, None])
    assert (rmse.best, rmse.values[2]) == (frozenset({1}), None)
    alone = metric_table([version(1, auc=0.5)])
    assert alone.rows[0].best == frozenset()  # nothing to be best against
