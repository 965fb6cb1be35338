"""Independence: the portal logs in through an OpenID Provider that nobody here wrote.

The provider is panva's certified ``oidc-provider`` (npm, ``node_modules``), started by
``oidc_provider/server.mjs`` on a free 127.0.0.1 port with PKCE required and two accounts.
The portal runs with ``OIDC_ISSUER`` pointing at it (so the embedded provider is off) and
reaches it over real HTTP for discovery, JWKS, token and userinfo; the "browser" is httpx,
which reaches the portal in-process and the provider over the network, following the whole
redirect chain and filling in the provider's own login and consent forms. This provider puts
the profile claims in userinfo, not in the ID token, so that path is exercised too.

Skipped when node or the package is missing, unless ``REQUIRE_BROWSER=1`` (CI): then it fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from tests.conftest import CSRF_RE, Database, make_settings

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).resolve().parent / "oidc_provider" / "server.mjs"
CLIENT_ID = "enforcement-portal-test"
CLIENT_SECRET = "an-independent-client-secret-0123456789"
ACCOUNTS = {
    "ext-zhaoliu": {"name": "赵六", "id_number": "11010519491231002X"},
    "ext-qianqi": {"name": "钱七", "id_number": "350200198001011236",
                   "org_name": "厦门示例贸易有限公司", "org_credit_code": "91350200MA2AB5678B"},
}
FORM_ACTION_RE = re.compile(r'<form\b[^>]*\baction="([^"]+)"')


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider's issuer URL, the provider running for this module's tests."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("node and node_modules/oidc-provider are required (REQUIRE_BROWSER=1)")
        pytest.skip("node or node_modules/oidc-provider missing (run `npm ci`)")
    config = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
              "redirectUri": "http://testserver/auth/callback", "accounts": ACCOUNTS}
    log = tmp_path_factory.mktemp("oidc-provider") / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([node, str(SCRIPT), json.dumps(config)], cwd=ROOT, text=True,
                                   stdout=subprocess.PIPE, stderr=stderr)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        issuer = process.stdout.readline().strip() if ready else ""
        if not issuer.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"oidc-provider did not start:\n{log.read_text()}")
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


async def submit(browser: httpx.AsyncClient, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
    """Post the page's form (action resolved against the page's URL), following redirects."""
    assert page.status_code == 200, page.text
    match = FORM_ACTION_RE.search(page.text)
    assert match, page.text
    return await browser.post(page.url.join(html.unescape(match.group(1))), data=fields)


@pytest.mark.parametrize(("login", "acting_as"), [("ext-zhaoliu", "赵六"),
                                                  ("ext-qianqi", "厦门示例贸易有限公司")])
async def test_login_through_an_independent_openid_provider(
        oidc_provider: str, database: Database, data_dir: Path, login: str, acting_as: str) -> None:
    app = create_app(make_settings(database.url, data_dir, OIDC_ISSUER=oidc_provider,
                                   OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET))
    portal = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(mounts={"http://testserver": portal}, follow_redirects=True,
                                     timeout=10) as browser:
            login_page = await browser.get("http://testserver/login")
            assert "开发用身份认证服务" not in login_page.text
            assert f"form-action 'self' {oidc_provider}" in login_page.headers["content-security-policy"]
            token = CSRF_RE.search(login_page.text)
            assert token
            sign_in = await submit(browser, login_page, {"csrf_token": token.group(1)})
            assert str(sign_in.url).startswith(f"{oidc_provider}/interaction/")
            consent = await submit(browser, sign_in, {"prompt": "login", "login": login, "password": "x"})
            account = await submit(browser, consent, {"prompt": "consent"})
            assert account.url == "http://testserver/todo", account.text
            assert ACCOUNTS[login]["name"] in account.text
            assert f"当前身份：{acting_as}" in account.text
            # the callback went through the provider's real redirect, carrying its RFC 9207 iss
            callback = next(r for r in account.history if r.url.path == "/auth/callback")
            assert callback.url.params["iss"] == oidc_provider
    finally:
        await app.state.engine.dispose()
