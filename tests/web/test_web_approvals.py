"""The approvals inbox on the demo organisation: its pending request is listed with what
the policy misses; a rejection needs a comment; the approval that meets the policy promotes
the version (checked through the registry); and what the service refuses (a person whose
role was taken away, the version's own author) is shown in the row, not as an error page.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect
from web_site import Site

from modelatlas.governance import Principal

VERSION = "model_version:fraud/card-fraud-detector@3"
ROW = "#request-fraud-card_fraud_detector-3"
AUTHOR = "amara.okafor"  # wrote v3 and its run in the demo (seed 7)


def _stage(site: Site) -> str:
    return site.registry.get_asset(VERSION).state


def test_reject_needs_a_comment_and_the_approval_promotes(fresh_demo: Site,
                                                           page: Page) -> None:
    # without JavaScript: a plain form post, answered with a redirect back to the inbox
    with httpx.Client(base_url=fresh_demo.url) as browser:
        browser.get("/approvals")
        token = browser.cookies["modelatlas_csrf"]
        posted = browser.post("/approvals/fraud/card-fraud-detector/3/reject",
                              data={"csrf_token": token, "comment": "recall on APAC?"})
        assert (posted.status_code, posted.headers["location"]) == (303, "/approvals")
    page.goto(f"{fresh_demo.url}/approvals")
    row = page.locator(ROW)
    expect(row.get_by_role("link", name="fraud/card-fraud-detector v3")).to_have_attribute(
        "href", "/models/fraud/card-fraud-detector/versions/3")
    expect(row).to_contain_text("Asked by amara.okafor")
    expect(row).to_contain_text("0 of 1 approvals")
    expect(row).to_contain_text("rejected by tester")  # the post above
    row.get_by_role("button", name="Reject").click()
    expect(row.get_by_role("status")).to_contain_text("a rejection needs a comment")
    row.get_by_label("Comment").fill("APAC recall checked: fine.")
    row.get_by_role("button", name="Approve").click()  # lifts the rejection, meets the policy
    expect(page.locator(ROW).get_by_role("status")).to_contain_text(
        f"{VERSION} is now in production")
    assert _stage(fresh_demo) == "production"
    page.goto(f"{fresh_demo.url}/approvals")
    expect(page.get_by_text("Nothing waits for your review")).to_be_visible()


def _sign_in(page: Page, site: Site, person: str) -> None:
    token = site.registry.create_token(
        {"name": "browser"}, principal=Principal(kind="user", person=person)).token
    page.goto(f"{site.url}/sign-in?next=/approvals")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_contain_text(person)


def test_the_service_refusals_show_in_the_row(site_with: Callable[..., Site],
                                              page: Page) -> None:
    site = site_with(auth_required=True)
    for person in (AUTHOR, "rui"):
        site.registry.grant_role("fraud", {"principal_type": "user", "principal_name": person,
                                           "role": "maintainer"})
    _sign_in(page, site, AUTHOR)
    row = page.locator(ROW)
    expect(row.locator(".banner.warn")).to_contain_text("separation of duties")
    row.get_by_role("button", name="Approve").click()
    expect(row.get_by_role("status")).to_contain_text(
        f"separation of duties: {AUTHOR} is an author")
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, site, "rui")
    row = page.locator(ROW)
    expect(row).to_be_visible()
    # the role is taken away after the page was drawn: the service, not the page, refuses
    site.registry.grant_role("fraud", {"principal_type": "user", "principal_name": "rui",
                                       "role": "viewer"})
    row.get_by_label("Comment").fill("looks good")
    row.get_by_role("button", name="Approve").click()
    expect(row.get_by_role("status")).to_contain_text("Not recorded")
    expect(row.get_by_role("status")).to_contain_text("maintainer")
    assert _stage(site) == "staging"
