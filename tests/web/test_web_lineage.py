"""The lineage explorer (/lineage): the graph in Chromium against the API's answers, on the
demo organisation and on a dataset with 1,000 direct dependents (which must open as a
group node, not 1,000 boxes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from web_site import Site, restored, serving

from modelatlas.registry import AssetCreate, Registry, RelationCreate
from modelatlas.registry.bulk import bulk_load
from worlds import Worlds

MODEL_VERSION = "model_version:fraud/card-fraud-detector@3"
BIG = "dataset:big/source@1"
DEPENDENTS = 1000


def _big(registry: Registry) -> None:
    """A dataset version that 1,000 model versions were derived from, and 3 runs used."""
    records: list[AssetCreate | RelationCreate] = [
        AssetCreate(ref=BIG), AssetCreate(ref="model:big/m")]
    for i in range(1, DEPENDENTS + 1):
        records += [AssetCreate(ref=f"model_version:big/m@{i}"),
                    RelationCreate(source=f"model_version:big/m@{i}", relation="derived_from",
                                   target=BIG)]
    for i in range(3):
        records += [AssetCreate(ref=f"run:big/r{i}"),
                    RelationCreate(source=f"run:big/r{i}", relation="used", target=BIG)]
    bulk_load(registry, records)


@pytest.fixture(scope="module")
def big_site(world_cache: Worlds, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serving(tmp_path_factory.mktemp("big-lineage"), restored(world_cache, _big)) as site:
        yield site


def _neighbour_refs(site: Site, ref: str) -> set[str]:
    refs: set[str] = set()
    for direction in ("upstream", "downstream"):
        answer = site.registry.lineage_neighbours(ref, direction=direction, limit=100)
        assert answer.next_cursor is None  # the demo's assets have few neighbours
        refs |= {n.ref for n in answer.items}
    return refs


def _graph(page: Page) -> dict[str, Any]:
    facts: dict[str, Any] = page.evaluate("""() => ({
        refs: window.cy.nodes('.asset').map(n => n.data('ref')),
        groups: window.cy.nodes('.group').map(n => n.data('label')),
        impact: window.cy.nodes('.impact').map(n => n.data('ref')),
        nodes: Number(document.getElementById('lineage').dataset.nodes)})""")
    return facts


def _open(page: Page, site: Site, ref: str) -> None:
    page.goto(f"{site.url}/lineage?ref={ref}")
    expect(page.locator("#lineage")).to_have_attribute("data-ready", "true")


def test_explore_a_model_version_expand_and_see_its_impact(demo_site: Site, page: Page) -> None:
    _open(page, demo_site, MODEL_VERSION)
    first = _graph(page)
    assert set(first["refs"]) == {MODEL_VERSION} | _neighbour_refs(demo_site, MODEL_VERSION)
    assert first["nodes"] == len(first["refs"]) and not first["groups"]
    expect(page.get_by_role("img", name=f"Lineage graph of {MODEL_VERSION}")).to_be_visible()
    legend = page.get_by_role("region", name="Legend")
    for words in ("model version", "dataset", "run", "deployment", "group"):
        expect(legend.get_by_role("listitem").filter(has_text=words).first).to_be_visible()

    # a click on the producing run's box expands its neighbours
    run = next(r for r in first["refs"] if r.startswith("run:"))
    canvas = page.locator("#lineage-graph")
    canvas.scroll_into_view_if_needed()
    # The browser fires the scroll event at its next frame, and cytoscape learns from it
    # that its container moved: a click sent before that frame is projected as if the
    # page had not scrolled, and lands on whatever node is that far away (a busy
    # machine's CI did this about one run in four). So the frame comes first.
    page.evaluate("() => new Promise(done => requestAnimationFrame("
                  "() => requestAnimationFrame(() => done())))")
    # braces: return nothing (serialising the returned cy object costs ~20 s)
    page.evaluate("ref => { window.cy.center(window.cy.getElementById(ref)); }", run)
    box = canvas.bounding_box()
    assert box is not None
    at = page.evaluate("ref => window.cy.getElementById(ref).renderedPosition()", run)
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    expected = set(first["refs"]) | _neighbour_refs(demo_site, run)
    page.wait_for_function("n => window.cy.nodes('.asset').length === n", arg=len(expected))
    assert set(_graph(page)["refs"]) == expected
    expect(page.locator("#lineage-details")).to_contain_text(run)

    # impact: every drawn asset downstream of the run is marked, nothing else
    page.get_by_role("button", name="Impact").click()
    expect(page.get_by_role("button", name="Impact")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#lineage-impact-summary")).to_contain_text("A change here reaches")
    downstream = {n.ref for n in demo_site.registry.lineage(
        run, {"direction": "downstream", "depth": 20}).nodes} - {run}
    marked = downstream & expected
    page.wait_for_function("n => window.cy.nodes('.impact').length === n", arg=len(marked))
    assert set(_graph(page)["impact"]) == marked and MODEL_VERSION in marked


def test_a_thousand_dependents_open_as_a_group_that_pages(big_site: Site, page: Page) -> None:
    _open(page, big_site, BIG)
    first = _graph(page)
    runs = {f"run:big/r{i}" for i in range(3)}
    # the 3 runs fit in the first page and are drawn; the model versions are one group
    assert set(first["refs"]) == {BIG} | runs
    assert first["groups"] == [f"{DEPENDENTS} more\nmodel versions"]
    # keyboard only: the panel lists the group as a button
    group = page.get_by_role("button", name=f"{DEPENDENTS} more model versions")
    group.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("n => window.cy.nodes('.asset').length === n", arg=4 + 25)
    after = _graph(page)
    assert after["groups"] == [f"{DEPENDENTS - 25} more\nmodel versions"]
    assert {f"model_version:big/m@{i}" for i in range(1, 26)} <= set(after["refs"])
    expect(page.get_by_role("button", name="Load 25 more")).to_be_visible()


def test_the_page_without_a_ref_is_a_labelled_form_and_bad_refs_are_pages(
        demo_site: Site) -> None:
    blank = httpx.get(f"{demo_site.url}/lineage")
    assert blank.status_code == 200
    assert '<label for="lineage-ref">Asset ref</label>' in blank.text
    assert 'id="lineage-graph"' not in blank.text
    missing = httpx.get(f"{demo_site.url}/lineage", params={"ref": "dataset:nope/x@1"})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    malformed = httpx.get(f"{demo_site.url}/lineage", params={"ref": "not a ref"})
    assert malformed.status_code == 422 and "text/html" in malformed.headers["content-type"]
    page = httpx.get(f"{demo_site.url}/lineage", params={"ref": MODEL_VERSION})
    assert f'data-root="{MODEL_VERSION}"' in page.text
    assert 'style="' not in page.text and "<script>" not in page.text
