"""Browser tests: Playwright driving Debian's chromium against a real ``portal run`` server.

The server is started exactly as ``make run`` starts it (migrate, seed the demo, serve) on a
free port with its own data directory, so these tests also prove the newcomer's path works.
Without /usr/bin/chromium the tests are skipped, unless ``REQUIRE_BROWSER=1`` (CI), which
makes a missing browser a failure. Every page visited gets an axe-core scan (npm package,
injected through the DevTools protocol so the page's strict CSP stays on).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = [str(path) for path in (CHROMIUM, AXE) if not path.exists()]
    if not missing:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"browser tests required but missing: {', '.join(missing)}")
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.skip(reason=f"missing: {', '.join(missing)}"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, url: str, data_dir: Path, log: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.log = log

    def demo_agency(self) -> dict[str, str]:
        return json.loads((self.data_dir / "demo-agency.json").read_text())[0]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    env = {**os.environ, "DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(port),
           "PUBLIC_URL": url}
    env.pop("DATABASE_URL", None)
    env.pop("OIDC_ISSUER", None)
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "portal.cli", "run"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"portal run exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"portal run did not become healthy:\n{log.read_text()}")
            time.sleep(0.2)
        yield LiveServer(url, data_dir, log)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        await instance.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    new_page = await context.new_page()
    yield new_page
    await new_page.close()


async def log_in(page: Page, live_server: LiveServer, who: str) -> None:
    """Log in as the demo identity ``who`` through the development identity provider; the
    portal lands on 我的待办."""
    await page.goto(live_server.url + "/login")
    await page.get_by_role("button", name="前往开发用身份认证服务登录").click()
    await page.locator(f"input[name=login][value={who}]").check()
    await page.get_by_role("button", name="以所选身份登录").click()
    await page.wait_for_url("**/todo")


async def open_menu(page: Page, link: str | None = None) -> None:
    """Open the header's 菜单 (a <details>, no JavaScript needed) and follow ``link`` in it."""
    menu = page.locator("header details.site-menu")
    if await menu.get_attribute("open") is None:
        await menu.locator("summary").click()
    if link is not None:
        await menu.get_by_role("link", name=link, exact=True).click()


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical WCAG 2.1 A/AA violation on the current page."""
    await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "accessibility violations on " + page.url + ":\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in serious
    )
