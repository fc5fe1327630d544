"""The search page (also the front page): autocomplete picked with the keyboard, facet
counts that match the service's and narrow the query, an inline syntax error with its
column, cursor paging, and the badges of a results row."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Page, expect
from web_site import Site

from modelatlas.api import create_app
from modelatlas.integrity.manifest import hash_artifact
from modelatlas.registry import AssetUpdate, InlineAsset, RunSpec, VersionRegistration
from routes import walk_routes

FACETS = ["kind", "namespace", "state", "tag", "framework", "task", "owner"]
ROW_REF = re.compile(r'class="asset-ref">([^<]+)</a>')


def _rows(html: str) -> list[str]:
    return ROW_REF.findall(html)


def test_the_front_page_is_the_search_page_with_every_facet(demo_site: Site) -> None:
    app = create_app(registry=demo_site.registry)
    assert [p for m, p in walk_routes(app.routes, pages=True) if m == "GET"].count("/") == 1
    answer = httpx.get(f"{demo_site.url}/")
    assert answer.status_code == 200
    assert '<form role="search" method="get" action="/search"' in answer.text
    expected = demo_site.registry.search("", facets=FACETS, sort="-updated", limit=25)
    assert len(_rows(answer.text)) == 25
    assert _rows(answer.text)[0] == expected.items[0].ref.split(":", 1)[1]
    total = sum(v.count for v in expected.facets["kind"])
    assert f"({total} in all)" in answer.text


def test_suggestions_are_picked_with_the_keyboard(demo_site: Site, page: Page) -> None:
    page.goto(f"{demo_site.url}/")
    box = page.get_by_role("combobox", name="Query")
    box.press_sequentially("namespace:fr", delay=20)
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    option = listbox.get_by_role("option", name=re.compile("namespace:fraud"))
    expect(option).to_be_visible()
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id") or "")
    box.press("Enter")  # picks the completion; the list closes
    expect(box).to_have_value("namespace:fraud")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("Enter")  # now searches
    expect(page).to_have_url(re.compile(r"/search\?q=namespace%3Afraud"))
    expect(page.get_by_role("heading", name=re.compile("Results"))).to_be_visible()


def test_a_late_answer_keeps_the_highlighted_completion(demo_site: Site, page: Page) -> None:
    """Suggestions answered after the person highlighted one (an earlier keystroke's
    request coming back late) replace the list but keep that completion highlighted, so
    Enter picks it rather than searching the raw text."""
    page.goto(f"{demo_site.url}/")
    box = page.get_by_role("combobox", name="Query")
    box.press_sequentially("namespace:fr", delay=20)
    listbox = page.get_by_role("listbox", name="Suggestions")
    option = listbox.get_by_role("option", name=re.compile("namespace:fraud"))
    expect(option).to_be_visible()
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    # the late answer: the same list swapped in again, as htmx swaps any answer
    page.evaluate("""() => new Promise(done => {
        document.addEventListener("htmx:afterSettle", () => done(), {once: true});
        window.htmx.ajax("GET", "/search/suggest?q=namespace%3Af",
                         {target: "#search-suggestions", swap: "innerHTML"});
    })""")
    fresh = listbox.get_by_role("option", name=re.compile("namespace:fraud"))
    expect(fresh).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", fresh.get_attribute("id") or "")
    box.press("Enter")
    expect(box).to_have_value("namespace:fraud")
    expect(listbox).to_be_hidden()


def test_facet_counts_match_the_service_and_a_value_narrows_the_query(
        demo_site: Site, page: Page) -> None:
    query = "kind:model_version"
    expected = demo_site.registry.search(query, facets=FACETS, limit=1).facets
    page.goto(f"{demo_site.url}/search?q={query}")
    team = page.get_by_role("region", name="Team")
    shown = {
        item.get_by_role("link").inner_text().strip():
            int(item.locator(".count").inner_text().split()[0])
        for item in team.get_by_role("listitem").all()
    }
    assert shown == {v.value: v.count for v in expected["namespace"]}
    fraud = next(v.count for v in expected["namespace"] if v.value == "fraud")
    team.get_by_role("link", name="fraud", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=kind%3Amodel_version\+namespace%3Afraud"))
    expect(page.get_by_role("combobox", name="Query")).to_have_value(
        "kind:model_version namespace:fraud")
    expect(page.get_by_role("heading", name=re.compile("Results"))).to_contain_text(
        f"({fraud} in all)")
    # the chosen value is marked, and following it again removes it from the query
    selected = page.get_by_role("region", name="Team").locator("a[aria-current='true']")
    expect(selected).to_contain_text("fraud")
    assert parse_qs(urlsplit(selected.get_attribute("href") or "").query)["q"] == [query]


def test_a_syntax_error_shows_its_column_inline(demo_site: Site, page: Page) -> None:
    answer = httpx.get(f"{demo_site.url}/search", params={"q": "kind:model (fraud"})
    assert answer.status_code == 200  # not a 4xx: the browser would log an error
    assert "column 18" in answer.text
    unknown = httpx.get(f"{demo_site.url}/search", params={"q": "colour:red"})
    assert unknown.status_code == 200 and "column 1: unknown field" in unknown.text
    page.goto(f"{demo_site.url}/search?q=kind:model%20(fraud")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("column 18")
    expect(alert).to_contain_text("expected ')'")


def test_pages_follow_the_cursor(demo_site: Site) -> None:
    query = {"q": "namespace:fraud", "sort": "name", "limit": "5"}
    expected = demo_site.registry.search("namespace:fraud", sort="name", limit=5)
    second = demo_site.registry.search("namespace:fraud", sort="name", limit=5,
                                       cursor=expected.next_cursor)
    with httpx.Client(base_url=demo_site.url) as browser:
        first = browser.get("/search", params=query)
        assert _rows(first.text) == [a.ref.split(":", 1)[1] for a in expected.items]
        link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text)
        assert link is not None
        following = browser.get(link.group(1).replace("&amp;", "&"))
        assert _rows(following.text) == [a.ref.split(":", 1)[1] for a in second.items]
        assert "First page" in following.text and "First page" not in first.text
        bad = browser.get("/search", params={**query, "cursor": "not-a-cursor"})
        assert bad.status_code == 200 and 'role="alert"' in bad.text


def test_suggestions_fragment_completes_the_last_token(demo_site: Site) -> None:
    answer = httpx.get(f"{demo_site.url}/search/suggest", params={"q": "fraud namespace:fr"})
    assert answer.status_code == 200
    assert 'data-query="fraud namespace:fraud"' in answer.text
    assert 'role="option"' in answer.text
    silent = httpx.get(f"{demo_site.url}/search/suggest", params={"q": "x" * 3000})
    assert silent.status_code == 200 and "option" not in silent.text


def test_a_row_shows_its_badges(fresh_demo: Site, page: Page, tmp_path: Path) -> None:
    registry = fresh_demo.registry
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    env = "environment:webtest/serving@1"
    registry.register_version("webtest", "scorer", VersionRegistration(
        run=RunSpec(metadata={"seeds": {"numpy": 7}}),
        datasets=[InlineAsset(ref="dataset:webtest/txns@1")],
        code=InlineAsset(ref="code:webtest/train@abc1234", metadata={"commit": "abc1234"}),
        environment=InlineAsset(ref=env, metadata={"packages": ["numpy==1.26.4"]}),
        metadata={"metrics": {"auc": 0.91234, "latency_p95_ms": 12}},
        state="production", manifest=hash_artifact(artifact).to_statement()))
    registry.register_version("webtest", "scorer", VersionRegistration())
    registry.update_asset(env, AssetUpdate(metadata={"packages": ["numpy==2.1.0"]}),
                          expected_revision=registry.get_asset(env).revision)
    registry.deprecate("model_version:webtest/scorer@2",
                       {"sunset": "2099-01-01", "reason": "use @1",
                        "replacement": "model_version:webtest/scorer@1"})
    page.goto(f"{fresh_demo.url}/search?q=kind:model_version%20namespace:webtest&sort=name")
    first = page.get_by_role("row", name="webtest/scorer@1")
    for badge in ("production", "needs revalidation", "verified attestation",
                  "lineage complete"):
        expect(first.get_by_text(badge, exact=True)).to_be_visible()
    expect(first).to_contain_text("auc")
    expect(first).to_contain_text("0.9123")
    expect(first.get_by_role("link", name="webtest/scorer@1")).to_have_attribute(
        "href", "/models/webtest/scorer/versions/1")
    second = page.get_by_role("row", name="webtest/scorer@2")
    expect(second.get_by_text("deprecated, sunset 2099-01-01")).to_be_visible()
    expect(second.get_by_text("lineage incomplete")).to_be_visible()
    expect(second.get_by_text("verified attestation")).to_have_count(0)
