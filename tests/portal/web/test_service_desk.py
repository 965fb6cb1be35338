"""The help line and the province: every page's footer and every error page give
the configured help line; pages cite the configured province's platform regulation and never
another province's; bad values stop the start (STYLE.md 6)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from portal.app import create_app
from portal.errors import ConfigurationError
from tests.conftest import Database, make_settings
from tests.portal.web.login_flow import log_in


async def _get(database: Database, data_dir: Path, path: str, *, login: str | None = None,
               **env: str) -> httpx.Response:
    app = create_app(make_settings(database.url, data_dir, **env))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            if login:
                await log_in(http, login)
            return await http.get(path)
    finally:
        await app.state.notary.aclose()
        await app.state.engine.dispose()


async def test_the_help_line_is_on_every_page_and_every_error_page(database: Database,
                                                                   data_dir: Path) -> None:
    home = await _get(database, data_dir, "/")
    assert 'href="tel:12345"' in home.text and "政务服务便民热线" in home.text
    missing = await _get(database, data_dir, "/no-such-page", HELP_LINE="0591-87654321",
                         HELP_LINE_NAME="平台服务热线")
    assert missing.status_code == 404
    assert "<title>错误：" in missing.text  # the title says it is an error page
    main = missing.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'href="tel:0591-87654321"' in main and "平台服务热线" in main  # on the page itself


async def test_pages_cite_the_configured_provinces_regulation_only(database: Database,
                                                                   data_dir: Path) -> None:
    # FJ Order No. 242 / GD Yue-Fu [2023] 73: a party reads its own province's rule
    fujian = (await _get(database, data_dir, "/")).text
    assert "《福建省一体化大融合行政执法平台管理暂行办法》" in fujian and "广东" not in fujian
    guangdong = (await _get(database, data_dir, "/", PORTAL_PROVINCE="guangdong")).text
    assert "《广东省一体化行政执法平台管理办法》" in guangdong and "福建" not in guangdong
    # the consent form: what the party signs cites its own province's article on e-service
    consent = (await _get(database, data_dir, "/consent", login="zhangsan", PORTAL_PROVINCE="guangdong")).text
    assert "《广东省一体化行政执法平台管理办法》第三十条" in consent and "福建" not in consent
    consent = (await _get(database, data_dir, "/consent", login="zhangsan")).text
    assert "《福建省一体化大融合行政执法平台管理暂行办法》第十九条" in consent and "广东" not in consent


@pytest.mark.parametrize("env", [{"PORTAL_PROVINCE": "zhejiang"}, {"HELP_LINE": "call us"},
                                 {"HELP_LINE_NAME": "热" * 41}])
def test_bad_values_stop_the_start(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, **env)
