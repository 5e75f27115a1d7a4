"""Fixtures: Debian's Chromium driven by Playwright, axe-core, and a worker for the engine.

- `browser` (module): headless `/usr/bin/chromium` launched by Playwright's sync API
  (Playwright cannot download a browser of its own here). Skipped, saying why, when
  Chromium or axe-core is missing (`scripts/setup.sh` installs both when it can); under
  `CI=true` that fails instead;
- `axe_source` (session): axe-core's `axe.min.js`, as `scripts/setup.sh` unpacked it
  into the virtualenv, checked against its integrity hash by setup.sh;
- `open_page(locale)` (per test): a page in a fresh browser context (no cookies), in
  that language; every context is closed after the test;
- `audit` (per test): the checks every page must pass (tests/browser_pages.py);
  `person` is a data subject's browser on the `engine`, in French; `handler` a handler's, in
  English, signed in;
- `engine_worker` (per test): the real `flask dsr worker` process on the `engine`'s
  database, Redis and connectors, stopped after the test.

Playwright's sync API runs an asyncio loop of its own in a greenlet, and between two
of its calls leaves that loop marked as the thread's running one: while it is started,
`asyncio.run()` in the tests' thread fails ("cannot be called from a running event
loop"). So it is started per module, for the browser tests' modules only, and stopped
(its loop closed, nothing left to warn about: pytest turns warnings into errors) before
any other module runs. A browser test that needs asyncio runs it in a thread of its own.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from browser_pages import Audit, Handler, Person
from fixtures_staff import PASSWORD
from worker_process import start_worker, worker_log

CHROMIUM = Path("/usr/bin/chromium")
#: no sandbox (the tests run as root), and no traffic of Chromium's own: this machine's
#: network is closed, and its refused connections would only slow the browser down
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: where scripts/setup.sh unpacks axe-core (AXE_DIR there)
AXE = Path(sys.prefix) / "share" / "axe-core" / "axe.min.js"
#: milliseconds a browser action may wait (a page, an element, a download)
TIMEOUT_MS = 15_000


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is not installed; `bash scripts/setup.sh` installs it as root "
            "(or: sudo apt-get install chromium)"
        )
    if not AXE.exists():
        return f"axe-core is not in {AXE.parent}; `bash scripts/setup.sh` fetches it with npm"
    return None


def skip_or_fail(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs the browser tests, but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the module's tests."""
    reason = missing()
    if reason:
        skip_or_fail(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def axe_source() -> str:
    reason = missing()
    if reason:
        skip_or_fail(reason)
    return AXE.read_text(encoding="utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, for `open_page` to know whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def open_page(browser, request, tmp_path):
    """`open_page(locale="fr-FR")`: a new page in a context of its own, in that language.

    When the test fails, each page's screenshot and HTML are kept in its `tmp_path`."""
    contexts = []

    def open_(locale: str = "fr-FR"):
        context = browser.new_context(locale=locale, accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    report = getattr(request.node, "report_call", None)
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            keep_pages(context, tmp_path / f"browser-{number}")
        context.close()


def keep_pages(context, stem: Path) -> None:
    """A screenshot and the HTML of each page of `context`, named after `stem`."""
    for index, page in enumerate(context.pages):
        page.screenshot(path=f"{stem}-{index}.png", full_page=True)
        Path(f"{stem}-{index}.html").write_text(page.content(), encoding="utf-8")
        print(f"kept {page.url} as {stem}-{index}.png and .html")


@pytest.fixture
def engine_worker(engine, tmp_path):
    """`flask dsr worker` (with its scheduler) working for `engine`, in its own process group."""
    worker = start_worker(engine, tmp_path)
    yield worker
    if worker.poll() is not None:
        pytest.fail(f"the worker died during the test; its log:\n{worker_log(tmp_path)}")
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


@pytest.fixture
def audit(axe_source) -> Audit:
    return Audit(axe_source)


@pytest.fixture
def person(open_page, engine, audit) -> Person:
    """A data subject's browser, in French, on the engine."""
    return Person(open_page("fr-FR"), engine, audit)


@pytest.fixture
def handler(open_page, engine, audit, make_staff) -> Handler:
    """A handler's browser, in English, signed in through the login page."""
    visitor = Handler(open_page("en-GB"), engine, audit)
    visitor.sign_in(make_staff("handler"), PASSWORD)
    return visitor
