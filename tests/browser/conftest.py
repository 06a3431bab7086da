"""A real netlab server (``manage.py netlab serve``, daphne and the worker) on a throw-away
SQLite database, and a headless Chromium logged in to it.

The server runs once per test session on a free port; every test gets its own browser
context (fresh cookies) logged in through the login page. The server's labs carry a
namespace prefix of their own (``nlb`` and five random letters) and journal into a
temporary state directory: at the end, whatever is still deployed under them is removed
and no namespace with the prefix may remain, whether the tests passed or not.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_server import PASSWORD, ROOT, USERNAME, running_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # pragma: no cover - playwright is a dev dependency
    sync_playwright = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if sync_playwright is None:
        reason = "Playwright is not installed (pip install -e '.[dev]')"
    elif not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    elif not (ROOT / "node_modules" / "cytoscape").exists():
        reason = "the front-end packages are missing (npm ci)"
    if reason:
        for item in items:
            if "browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def lab_prefix() -> str:
    """The namespace prefix of every lab the browser tests' server deploys."""
    return "nlb" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(5)) + "-"


@pytest.fixture(scope="session")
def lab_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("netlab-state")


def namespaces_with(prefix: str) -> list[str]:
    from netlab.kernel import namespaces

    return [name for name in namespaces.list_names() if name.startswith(prefix)]


def remove_labs(prefix: str, state_dir: Path) -> None:
    """Destroy every lab journaled in ``state_dir`` and any namespace left with ``prefix``."""
    from netlab.kernel import engine, namespaces

    try:
        engine.cleanup(set(), state_dir=str(state_dir))
    finally:
        for name in namespaces_with(prefix):  # only this session's prefix: its own objects
            namespaces.remove(name)


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, lab_prefix: str, lab_state_dir: Path
) -> Iterator[str]:
    """The base URL of a netlab server with two users, USERNAME and READER; killed at the end."""
    labs = {"NETLAB_NETNS_PREFIX": lab_prefix, "NETLAB_STATE_DIR": str(lab_state_dir)}
    try:
        with running_server(tmp_path_factory.mktemp("netlab-data"), labs) as base:
            yield base
    finally:
        if os.geteuid() == 0:
            remove_labs(lab_prefix, lab_state_dir)
            assert namespaces_with(lab_prefix) == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API runs an event loop of its own while it is open,
    # which asyncio tests in later modules must not find running.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def log_in(browser: Browser, server: str, username: str) -> BrowserContext:
    """A fresh browser context logged in as ``username`` through the login page."""
    context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    page.close()
    return context


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    """A fresh browser context logged in as USERNAME through the login page."""
    context = log_in(browser, server, USERNAME)
    yield context
    context.close()


@pytest.fixture
def second_user(browser: Browser, server: str) -> Iterator[Callable[[], BrowserContext]]:
    """``second_user()``: a browser context of its own logged in as READER."""
    contexts: list[BrowserContext] = []

    def open_context() -> BrowserContext:
        from live_server import READER

        contexts.append(log_in(browser, server, READER))
        return contexts[-1]

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def kernel_labs(lab_prefix: str, lab_state_dir: Path) -> Iterator[str]:
    """For tests that deploy: root only; afterwards nothing with the server's prefix is left.

    A test destroys its labs through the page; if it failed before that, they are removed
    here, and either way no namespace with the prefix may remain.
    """
    if os.geteuid() != 0:
        pytest.skip("deploying a lab needs root (network namespaces)")
    yield lab_prefix
    left = namespaces_with(lab_prefix)
    if left:
        remove_labs(lab_prefix, lab_state_dir)
    assert left == [], f"the test left namespaces behind: {left}"


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], f"errors in the page: {errors}"


@pytest.fixture
def screenshot(page: Page) -> Any:
    """``screenshot(name)`` saves the page under artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


# Runs in every page before its own scripts: keeps the Content-Security-Policy violations
# the page reports.
WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page: Page) -> Any:
    """The page with its CSP violations watched: ``watched()`` answers those seen so far."""
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(WATCH)

    def violations() -> list[str]:
        return [*page.evaluate("window.cspViolations"), *console]

    return violations
