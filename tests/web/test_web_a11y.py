"""Accessibility of every page type, checked by a real tool: Deque's axe-core (npm, a dev
dependency: ``make web-assets`` installs it into node_modules, never into the served UI)
runs in Chromium against the WCAG 2.1 A and AA rules and its best practices, on the demo
organisation. Each page
must also fit a 1366x768 laptop screen without scrolling sideways, and the keyboard alone
must reach the content (the skip link) and an approval (the Approve button).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from web_site import Site

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices: one h1, headings in order, content inside
# landmarks, landmarks named apart (what a screen reader's user navigates by)
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
VERSION = "model_version:fraud/card-fraud-detector@3"
VERSION_PAGE = "/models/fraud/card-fraud-detector/versions/3"
ROW = "#request-fraud-card_fraud_detector-3"  # the demo's pending promotion of v3


@pytest.fixture
def context_options() -> dict[str, object]:
    # the page policy allows scripts from 'self' only: axe is injected past it
    return {"bypass_csp": True}


@pytest.fixture(scope="module")
def axe_source() -> Path:
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"axe-core is missing at {AXE}: run the suite with `make test`")
        pytest.skip(f"no axe-core at {AXE} (make web-assets)")
    return AXE


def _lineage_drawn(page: Page) -> None:
    # the graph and its panel are drawn by lineage.js: check what the user finally sees
    expect(page.locator("#lineage")).to_have_attribute("data-ready", "true")


def _suggestions_open(page: Page) -> None:
    page.get_by_role("combobox", name="Query").press_sequentially("fra")
    expect(page.get_by_role("option").first).to_be_visible()


def _nothing(page: Page) -> None:
    pass


# (test id, path, what to do before checking); one of each page type, in a real demo state
PAGES: list[tuple[str, str, Callable[[Page], None]]] = [
    ("front", "/", _nothing),
    ("suggestions", "/", _suggestions_open),
    ("search-facets", "/search?q=kind%3Amodel_version+namespace%3Afraud", _nothing),
    ("search-error", "/search?q=kind%3Amodel+%28fraud", _nothing),
    ("model", "/models/fraud/card-fraud-detector", _nothing),
    ("version", VERSION_PAGE, _nothing),
    ("dataset", "/assets/dataset:fraud/labelled-disputes@1", _nothing),
    ("lineage", f"/lineage?ref={VERSION}", _lineage_drawn),
    ("lineage-empty", "/lineage", _nothing),
    ("approvals", "/approvals", _nothing),
    ("sign-in", "/sign-in", _nothing),
]


def _violations(page: Page, axe: Path) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(axe))
    found: list[dict[str, Any]] = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
                      .then(r => r.violations)""", RULE_TAGS)
    return found


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']} "
                     f"at {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize(("path", "prepare"), [(p, f) for _, p, f in PAGES],
                         ids=[name for name, _, _ in PAGES])
def test_page_meets_wcag_aa_and_fits_a_laptop(demo_site: Site, page: Page, axe_source: Path,
                                             path: str, prepare: Callable[[Page], None]) -> None:
    answer = page.goto(f"{demo_site.url}{path}")
    assert answer is not None and answer.ok, path
    prepare(page)
    violations = _violations(page, axe_source)
    assert not violations, f"axe on {path}:\n{_describe(violations)}"
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{path} scrolls sideways: {width}"


def test_the_error_page_meets_wcag_aa(demo_site: Site, page: Page, axe_source: Path,
                                      console_errors: list[str]) -> None:
    answer = page.goto(f"{demo_site.url}/models/fraud/no-such-model")
    assert answer is not None and answer.status == 404
    # the browser logs the page's own 404; that one is expected
    console_errors[:] = [e for e in console_errors if "404" not in e]
    violations = _violations(page, axe_source)
    assert not violations, _describe(violations)


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb(r, g, b)`` colours."""
    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _focused(page: Page) -> str:
    return str(page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.id || e.textContent.trim(); }"))


def test_the_skip_link_comes_first_and_moves_focus_to_the_content(demo_site: Site,
                                                                  page: Page) -> None:
    page.goto(f"{demo_site.url}{VERSION_PAGE}")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused, not left off-screen
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # onwards from the content, past the header's links
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    # the focus ring is a state indicator: 3:1 against the page (WCAG 1.4.11); axe does
    # not look at focus styles
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert _contrast(ring, "rgb(255, 255, 255)") >= 3, ring


def test_the_keyboard_alone_approves_a_request(fresh_demo: Site, page: Page) -> None:
    page.goto(f"{fresh_demo.url}/approvals")
    approve = page.locator(ROW).get_by_role("button", name="Approve")
    for _ in range(40):  # the header's links, the row's link, its comment, then Approve
        page.keyboard.press("Tab")
        if approve.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail(f"Tab never reached Approve; it stopped at {_focused(page)!r}")
    page.keyboard.press("Enter")
    outcome = page.locator(ROW).get_by_role("status")
    expect(outcome).to_contain_text(f"{VERSION} is now in production")
    expect(outcome).to_be_focused()  # not lost with the swapped row: read out, and Tab goes on
    assert fresh_demo.registry.get_asset(VERSION).state == "production"
