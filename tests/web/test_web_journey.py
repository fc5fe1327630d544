"""The reviewer's journey of issue 8, end to end in Chromium on the demo organisation:
search -> open a model -> its version -> lineage -> approve, with a screenshot of each step
(test-artifacts/web/journey-*.png)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from web_site import ARTIFACTS, Site

MODEL = "fraud/card-fraud-detector"
PENDING = f"model_version:{MODEL}@3"  # the demo's open promotion request


def _shot(page: Page, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{step}.png"), full_page=True)


def test_search_open_a_model_follow_its_lineage_and_approve(fresh_demo: Site,
                                                            page: Page) -> None:
    page.goto(fresh_demo.url)
    page.get_by_role("combobox", name="Query").fill("card fraud kind:model")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search\?"))
    _shot(page, "1-search")

    page.get_by_role("link", name=MODEL, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(MODEL)
    expect(page.get_by_role("heading", name="Versions")).to_be_visible()
    _shot(page, "2-model")

    page.get_by_role("link", name="Version 3", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 3")
    _shot(page, "3-version")

    page.get_by_role("link", name="Open in the lineage explorer").click()
    expect(page.locator("#lineage")).to_have_attribute("data-ready", "true")
    upstream = fresh_demo.registry.lineage(PENDING, {"direction": "upstream", "depth": 1})
    drawn = page.evaluate("() => window.cy.nodes('.asset').map(n => n.id())")
    assert {n.ref for n in upstream.nodes} <= set(drawn)
    _shot(page, "4-lineage")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    request = page.get_by_role("article").filter(has_text=f"{MODEL} v3")
    request.get_by_label(re.compile("Comment")).fill("Checked the holdout slices: ship it.")
    request.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("now in production")
    _shot(page, "5-approved")
    assert fresh_demo.registry.get_asset(PENDING).state == "production"
