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
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from portal.notary import dev_pki_dir
from signing import KeySigner, SignatureSettings, async_sign_pdf, open_dev_pki
from tests.signing.sample_pdfs import make_pdf

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

PHONE: ViewportSize = {"width": 375, "height": 812}
"""The phone of the citizen journeys: what a person came for lies within its first screen."""
ONE_LINE = 60  # px: the header's height when nothing wraps (44 px targets and padding)

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

    def demo_case_url(self) -> str:
        """The first demo case's QR link, as the banner printed it (the person 张三's case)."""
        match = re.search(r"（当事人登录：zhangsan） (\S+/c/\S+\?t=\S+)", self.log.read_text())
        assert match, "the banner printed no demo case link"
        return match.group(1)


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
        deadline = time.monotonic() + 180  # seeding signs documents: slow on a busy machine
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


@dataclass(frozen=True)
class Phone:
    """A 375x812 phone, its browser's JavaScript on or off (every journey works either way)."""

    context: BrowserContext
    javascript: bool

    async def scan(self, page: Page) -> None:
        """axe on the page as this phone shows it."""
        await assert_accessible(page, javascript=self.javascript)


@pytest_asyncio.fixture(params=["js", "no-js"], loop_scope="session")
async def phone(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Phone]:
    javascript = request.param == "js"
    ctx = await browser.new_context(locale="zh-CN", viewport=PHONE, java_script_enabled=javascript)
    yield Phone(ctx, javascript)
    await ctx.close()


async def in_first_screen(control: Locator) -> None:
    """``control`` is visible without scrolling on the phone (top of the page, 812 px)."""
    await expect(control).to_be_visible()
    box = await control.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box


async def one_line_header(page: Page) -> None:
    header = await page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= ONE_LINE, header


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


_TIMERS_AS_MICROTASKS = """() => {
    window.setTimeout = (callback, _delay, ...args) => {
        Promise.resolve().then(() => callback(...args));
        return 0;
    };
    window.clearTimeout = () => {};
}"""
"""With the page's JavaScript off, chromium still evaluates what the test injects but never
fires a timer, and axe waits on timers: they become microtasks for axe's sake (the page's own
scripts never ran, so nothing else is affected)."""


async def assert_accessible(page: Page, *, javascript: bool = True) -> None:
    """axe-core finds no WCAG 2.1 A/AA or best-practice violation at all (minor ones included)
    on the current page; ``javascript``: False when the page's browser context runs without
    JavaScript."""
    if not javascript:
        await page.evaluate(_TIMERS_AS_MICROTASKS)
    await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    violations = result["violations"]
    assert not violations, "accessibility violations on " + page.url + ":\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in violations
    )


async def agency_api(live_server: LiveServer, method: str, path: str, **kwargs: object) -> httpx.Response:
    """One call of the agency API as the first demo agency (its client credentials)."""
    agency = live_server.demo_agency()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        token = (await http.post("/api/v1/token", data={"grant_type": "client_credentials"},
                                 auth=(agency["client_id"], agency["client_secret"]))).json()["access_token"]
        return await http.request(method, path, headers={"authorization": f"Bearer {token}"},
                                  **kwargs)  # type: ignore[arg-type]


async def agency_serves(live_server: LiveServer, case_code: str, party: dict[str, str],
                        document_type: str, title: str, lines: tuple[str, ...]) -> dict[str, str]:
    """The first demo agency serves a PDF of ``lines`` under its development seal on ``party``
    in ``case_code`` through the deliveries API (the party has consented to e-service)."""
    agency = live_server.demo_agency()
    pki = open_dev_pki(dev_pki_dir(live_server.data_dir))
    seal = KeySigner.from_credential(pki.agency_seal(agency["agency_name"], agency["credit_code"]))
    document = await async_sign_pdf(make_pdf(lines=lines), seal, SignatureSettings())
    meta = {"document_type": document_type, "title": title, "party": party}
    response = await agency_api(
        live_server, "POST", f"/api/v1/cases/{case_code}/deliveries",
        files={"document": ("document.pdf", document, "application/pdf"),
               "metadata": (None, json.dumps(meta, ensure_ascii=False), "application/json")})
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def rewind_sessions(live_server: LiveServer, name: str, *, login: timedelta | None = None,
                    idle: timedelta | None = None) -> None:
    """What time does to ``name``'s open sessions, written into the live server's database:
    their login ``login`` ago (a fresh login is needed again), their last request ``idle`` ago
    (the idle timeout ends the session at its next request). Nothing else in them changes."""
    with sqlite3.connect(live_server.data_dir / "portal.db", timeout=30) as db:
        rows = db.execute("SELECT token_hash, data FROM web_sessions WHERE ended_at IS NULL").fetchall()
        for token_hash, raw in rows:
            data = json.loads(raw)
            if data.get("user", {}).get("name") != name:
                continue
            if login is not None:
                data["auth_time"] = int(time.time() - login.total_seconds())
                db.execute("UPDATE web_sessions SET data = ? WHERE token_hash = ?",
                           (json.dumps(data), token_hash))
            if idle is not None:
                seen = (datetime.now(UTC) - idle).replace(tzinfo=None)
                db.execute("UPDATE web_sessions SET last_seen_at = ? WHERE token_hash = ?",
                           (seen.strftime("%Y-%m-%d %H:%M:%S.%f"), token_hash))


async def wait_for_link(page: Page, link: Locator, javascript: bool, timeout_s: float = 30) -> None:
    """Until ``link`` shows up on a page the server completes in the background (a receipt
    sealed by the worker): with JavaScript htmx brings it without a reload; without, the person
    reloads (the page's own 刷新 link does the same)."""
    if javascript:
        await expect(link).to_be_visible(timeout=timeout_s * 1000)
        return
    deadline = time.monotonic() + timeout_s
    while not await link.count():
        assert time.monotonic() < deadline, f"{link} did not appear on {page.url}"
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(link).to_be_visible()
