"""Signing in and out of the UI, CSRF protection of its forms, and the page policy."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect
from web_site import Site

from modelatlas.api import create_app
from modelatlas.governance import Principal
from routes import walk_routes

ADA = Principal(kind="user", person="ada")


def test_the_front_page_is_the_ui_with_a_strict_policy(demo_site: Site) -> None:
    answer = httpx.get(f"{demo_site.url}/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["cache-control"] == "no-store"
    assert "modelatlas_csrf" in answer.headers["set-cookie"]
    assert "SameSite=strict" in answer.headers["set-cookie"]


def test_vendor_code_is_served_from_this_origin(demo_site: Site) -> None:
    for script in ("htmx.min.js", "cytoscape.min.js", "dagre.min.js", "cytoscape-dagre.js"):
        answer = httpx.get(f"{demo_site.url}/static/vendor/{script}")
        assert answer.status_code == 200, (script, "run `make web-assets`")
        assert len(answer.content) > 1000


def test_sign_in_with_a_token_then_out(site_with: Callable[..., Site], page: Page) -> None:
    site = site_with(auth_required=True)
    token = site.registry.create_token({"name": "browser"}, principal=ADA).token
    page.goto(f"{site.url}/?q=fraud")
    expect(page).to_have_url(f"{site.url}/sign-in?next=%2F%3Fq%3Dfraud")
    page.get_by_label("Token").fill("mat_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/?q=fraud")
    expect(page.get_by_text("Signed in as")).to_contain_text("ada")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/sign-in")
    page.goto(f"{site.url}/")
    expect(page).to_have_url(f"{site.url}/sign-in?next=%2F")


def test_a_revoked_token_signs_the_browser_out(site_with: Callable[..., Site]) -> None:
    site = site_with(auth_required=True)
    created = site.registry.create_token({"name": "browser"}, principal=ADA)
    with httpx.Client(base_url=site.url) as browser:
        form = _form_token(browser)
        assert browser.post("/sign-in", data={"token": created.token, "csrf_token": form,
                                              "next": "/"}).status_code == 303
        assert browser.get("/").status_code == 200
        site.registry.revoke_token(created.token_id, principal=ADA)
        gone = browser.get("/", follow_redirects=False)
        assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in?next=%2F")


def test_the_sign_in_form_redirects_only_within_the_site(demo_site: Site) -> None:
    with httpx.Client(base_url=demo_site.url) as browser:
        for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            page = browser.get("/sign-in", params={"next": evil})
            assert 'name="next" value="/"' in page.text, evil


def test_every_form_post_needs_the_csrf_token(demo_site: Site) -> None:
    app = create_app(registry=demo_site.registry)
    posts = sorted({p for m, p in walk_routes(app.routes, pages=True) if m == "POST"})
    assert "/sign-in" in posts and "/sign-out" in posts
    with httpx.Client(base_url=demo_site.url) as browser:
        token = _form_token(browser)
        for path in posts:
            concrete = path.replace("{", "").replace("}", "")
            missing = browser.post(concrete, data={"token": "x"})
            assert missing.status_code == 422, (path, missing.text)
            assert "CSRF" in missing.text
            other_site = browser.post(concrete, data={"csrf_token": token},
                                      headers={"Origin": "https://evil.example"})
            assert other_site.status_code == 403, path
            assert missing.headers["content-type"].startswith("text/html")


def test_every_page_sends_a_stranger_to_sign_in(site_with: Callable[..., Site]) -> None:
    site = site_with(auth_required=True)
    app = create_app(registry=site.registry)
    pages = sorted({p for m, p in walk_routes(app.routes, pages=True) if m == "GET"})
    assert "/" in pages
    with httpx.Client(base_url=site.url) as browser:
        for path in pages:
            # the ways in are open to strangers by nature: the sign-in form, and the OIDC
            # flow's start and the provider's redirect back (tests/web/test_web_oidc.py)
            if path in ("/sign-in", "/sign-in/oidc", "/sign-in/oidc/callback"):
                continue
            concrete = path.replace("{", "").replace("}", "").replace(":path", "")
            answer = browser.get(concrete, follow_redirects=False)
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"].startswith("/sign-in?next="), path


def _form_token(browser: httpx.Client) -> str:
    browser.get("/sign-in")
    return browser.cookies["modelatlas_csrf"]


def test_the_session_cookie_reads_the_api_but_never_writes(
        site_with: Callable[..., Site]) -> None:
    site = site_with(auth_required=True)
    token = site.registry.create_token({"name": "browser"}, principal=ADA).token
    cookies = {"modelatlas_session": token}
    with httpx.Client(base_url=site.url, cookies=cookies) as browser:
        assert browser.get("/api/v1/assets", params={"limit": 1}).status_code == 200
        write = browser.post("/api/v1/assets", json={"ref": "dataset:fraud/x@1"})
        assert write.status_code == 401
    with httpx.Client(base_url=site.url, cookies={"modelatlas_session": "mat_bad"}) as bad:
        assert bad.get("/api/v1/assets").status_code == 401
