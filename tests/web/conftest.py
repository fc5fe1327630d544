"""The web UI's tests: the demo organisation served by a real uvicorn, and Debian's
Chromium driven by Playwright (``make test`` installs Chromium when it is missing).

* ``demo_site``: the URL of a server over a copy of the demo (built once per test process,
  copied per module; the tests of a module share it, so they must only read, or write what
  no other test of the module looks at).
* ``fresh_demo``: a server over this test's own copy, for tests that change things.
* ``page``: a new browser context (laptop-sized) and page; it fails the test on any console
  error or uncaught exception, and saves a screenshot to ``test-artifacts/web/``. A module
  may override ``context_options`` to pass more options to the context.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from web_site import ARTIFACTS, Site, restored, serving

from modelatlas import demo
from modelatlas.demo import DemoSummary
from modelatlas.registry import Registry
from worlds import Worlds

CHROMIUM = os.environ.get("MODELATLAS_TEST_CHROMIUM", "/usr/bin/chromium")
LAPTOP = {"width": 1366, "height": 768}
# as the machine's probe found: without these, Chromium keeps dialling Google's hosts
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def seed_demo(registry: Registry) -> DemoSummary:
    return demo.seed(registry)


def _serve(world_cache: Worlds, home: Path, **settings: object) -> Iterator[Site]:
    with serving(home, restored(world_cache, seed_demo), **settings) as site:
        yield site


@pytest.fixture(scope="module")
def demo_site(world_cache: Worlds, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _serve(world_cache, tmp_path_factory.mktemp("demo-site"))


@pytest.fixture
def fresh_demo(world_cache: Worlds, tmp_path: Path) -> Iterator[Site]:
    yield from _serve(world_cache, tmp_path / "site")


@pytest.fixture
def site_with(world_cache: Worlds, tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """``site_with(**settings)``: the demo served with other settings (``auth_required``)."""
    stack: list[Iterator[Site]] = []

    def make(**settings: object) -> Site:
        served = _serve(world_cache, tmp_path / f"site-{len(stack)}", **settings)
        stack.append(served)
        return next(served)

    yield make
    for served in reversed(stack):
        next(served, None)  # runs the generator's cleanup


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: run the suite with `make test`")
        pytest.skip(f"no Chromium at {CHROMIUM} (make chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """What the page reported as errors; the ``page`` fixture fails the test unless the
    test emptied it (after checking an error it expected)."""
    return []


@pytest.fixture
def context_options() -> dict[str, object]:
    """Extra options of the ``page`` fixture's browser context; a test module overrides this
    fixture to change them (the accessibility tests bypass the page policy to inject axe)."""
    return {}


@pytest.fixture
def page(chromium: object, console_errors: list[str], context_options: dict[str, object],
         request: pytest.FixtureRequest) -> Iterator[object]:
    from playwright.sync_api import Browser, ConsoleMessage, Error

    assert isinstance(chromium, Browser)
    context = chromium.new_context(viewport=LAPTOP, **context_options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    browser_page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"console: {message.text} at {message.location}")

    def on_error(error: Error) -> None:
        console_errors.append(f"uncaught: {error}")

    browser_page.on("console", on_console)
    browser_page.on("pageerror", on_error)
    try:
        yield browser_page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            browser_page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        finally:
            context.close()
    assert not console_errors, console_errors
