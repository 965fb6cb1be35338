"""The case pages: the public lookup by QR or typed code, and the party's own cases.

FJ art. 8, 29 (a scan shows the public status only; a party who logs in sees the full case),
SECURITY.md "Business logic" (anti-automation on case-code lookup, identical not-found
answers) and "Access control" (another party's case is 404). Both databases.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from portal.cases import codes as case_codes
from portal.cases.events import parse_event_data
from portal.database import transaction
from portal.evidence_hash import instant_text
from portal.models.cases import Case
from portal.services import agencies, cases, evidence, rate_limits
from portal.services.calendar import load_calendar
from portal.settings import Settings
from tests.builders import NOTICE, TABLE_2027, PageWorld, new_case
from tests.conftest import CSRF_RE, Database, run_cli
from tests.identities import ZHANGSAN
from tests.portal.case_history import china
from tests.portal.web.login_flow import log_in

PRIVATE = ("张三", "35010219850312123X", "销售超过保质期的食品", "一万元", "酸奶", "10,000", "陈明",
           "35010020230017", "福州示例科技有限公司")
REQUEST_ID = re.compile(r'请求编号：<span class="mono">[^<]*</span>')


def qr_path(settings: Settings, code: str) -> str:
    return case_codes.case_url("", settings.key_text("case_qr"), code)


async def test_a_scan_shows_the_public_status_and_nothing_private(
        client: httpx.AsyncClient, settings: Settings, world: PageWorld) -> None:
    # FJ art. 8, 29: no names, ID numbers, matter, amounts or officers on the public page
    response = await client.get(qr_path(settings, world.person_case))
    assert response.status_code == 200
    page = response.text
    assert "案件公开状态" in page and "福州市市场监督管理局" in page and "行政处罚" in page
    assert "已告知拟作出的行政处罚" in page and case_codes.display(world.person_case) in page
    assert [word for word in PRIVATE if word in page] == []
    # SECURITY.md "Browser side": the token never leaves in a Referer; nothing is cached
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "private, no-store"
    assert "登录后查看完整案件信息" in page


async def test_unknown_mistyped_and_failing_check_codes_get_one_answer(
        client: httpx.AsyncClient, world: PageWorld) -> None:
    # SECURITY.md "Business logic" (ASVS v5.0.0-2.4.1): never reveal which codes exist
    real = world.person_case
    wrong_check = real[:-1] + ("0" if real[-1] != "0" else "1")
    one_typo = ("0" if real[0] != "0" else "1") + real[1:]
    answers = []
    for typed in (case_codes.new_code(), "7KQ2-M9XD", wrong_check, one_typo):
        for path in (f"/c/{typed}", f"/c?code={typed}"):
            response = await client.get(path)
            assert response.status_code == 404
            page = CSRF_RE.sub("", REQUEST_ID.sub("", response.text))  # both differ per response
            answers.append(page.replace(f'value="{typed}"', 'value=""'))
    assert "未找到该案件" in answers[0] and len(set(answers)) == 1


def test_every_single_mistyped_character_fails_the_check_character() -> None:
    # FJ art. 29 (codes parties type), cases.codes: Luhn mod 32 catches every single substitution
    code = case_codes.new_code()
    for position in range(case_codes.CODE_LENGTH):
        for char in case_codes.ALPHABET:
            if char != code[position]:
                assert case_codes.normalise(code[:position] + char + code[position + 1:]) is None


async def test_a_thousand_guesses_find_nothing_and_hit_the_rate_limit(
        client: httpx.AsyncClient, settings: Settings, world: PageWorld,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # SECURITY.md "Business logic": per-client limits on case-code lookup; a valid QR token is
    # a scan, not a guess, and is not limited. The limiter's clock is held mid-window so a slow
    # run cannot cross into the next window and get a fresh allowance.
    frozen = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    monkeypatch.setattr(rate_limits, "utcnow", lambda: frozen)
    statuses: dict[int, int] = {}
    for _ in range(1000):
        status = (await client.get(f"/c?code={case_codes.new_code()}")).status_code
        statuses[status] = statuses.get(status, 0) + 1
    assert statuses == {404: 30, 429: 970}
    limited = await client.get(f"/c/{world.person_case}")
    assert limited.status_code == 429 and "操作过于频繁" in limited.text
    assert re.search(r"请在 <strong>\d+ 秒</strong>后重试", limited.text)
    assert int(limited.headers["retry-after"]) <= 61
    forged = await client.get(f"/c/{world.person_case}?t=AAAAAAAAAAAAAAAAAAAAAA")
    assert forged.status_code == 429
    assert (await client.get(qr_path(settings, world.person_case))).status_code == 200


async def test_party_sees_its_cases_in_full(client: httpx.AsyncClient, world: PageWorld) -> None:
    # FJ art. 29; APL art. 55 (officers' names and credential numbers); LAW.md deadlines shown
    # with how they were counted
    await log_in(client, "zhangsan")
    listing = await client.get("/cases")
    assert listing.status_code == 200 and listing.headers["cache-control"] == "private, no-store"
    assert case_codes.display(world.person_case) in listing.text
    assert case_codes.display(world.company_case) not in listing.text
    page = await client.get(f"/cases/{case_codes.display(world.person_case).lower()}")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    text = page.text
    for expected in ("福州市市场监督管理局", "榕市监处罚〔2026〕101号", "销售超过保质期的食品",
                     "陈明", "35010020230017", "林芳", "35010020230024", "陈述、申辩期限",
                     "申请听证期限", "5个工作日，不含法定节假日", "告知于", "10,000.00 元",
                     "行政处罚事先告知", "在本平台登记"):
        assert expected in text, expected
    public = await client.get(f"/c/{world.person_case}")
    assert '<a class="button" href="/cases/' in public.text  # offered the full view


async def test_an_extension_shows_the_legal_end_and_the_new_one(
        client: httpx.AsyncClient, database: Database, world: PageWorld) -> None:
    # APL art. 66 and the window_extended event: the party sees both ends and the reason
    async with transaction(database.sessions) as db:
        case = (await db.execute(select(Case).where(Case.code == world.person_case))).scalar_one()
        statutory = (await cases.deadlines(db, case, 0, await load_calendar(db)))[0]
        new_last = statutory.last_day + timedelta(days=14)
        await cases.add_stage_event(db, case, "window_extended", {
            "deadline": "statement", "new_last_day": new_last.isoformat(),
            "reason": "当事人申请收集证据"}, "agency:test")
    await log_in(client, "zhangsan")
    page = (await client.get(f"/cases/{world.person_case}")).text
    assert f'法定期限截止 <time datetime="{statutory.last_day.isoformat()}">' in page
    assert (f"执法机关已将期限延长至{new_last.year}年{new_last.month}月{new_last.day}日 24:00"
            "（理由：当事人申请收集证据）") in page


async def test_other_parties_get_404(app: Starlette, client: httpx.AsyncClient, world: PageWorld) -> None:
    # SECURITY.md "Access control" (ASVS v5.0.0-8.2.2)
    await log_in(client, "wangwu")
    for code in (world.person_case, world.company_case):
        assert (await client.get(f"/cases/{code}")).status_code == 404
    assert (await client.get(f"/cases/{case_codes.new_code()}")).status_code == 404
    assert "查看完整案件信息" not in (await client.get(f"/c/{world.person_case}")).text
    await log_in(client, "zhangsan")
    assert (await client.get(f"/cases/{world.company_case}")).status_code == 404


async def test_the_companys_agent_sees_the_companys_case(client: httpx.AsyncClient,
                                                         world: PageWorld) -> None:
    await log_in(client, "lisi")  # acting for 福州示例科技有限公司
    assert case_codes.display(world.company_case) in (await client.get("/cases")).text
    assert (await client.get(f"/cases/{world.company_case}")).status_code == 200
    assert (await client.get(f"/cases/{world.person_case}")).status_code == 404


async def test_pages_need_a_login(client: httpx.AsyncClient, world: PageWorld) -> None:
    response = await client.get(f"/cases/{world.person_case}")
    assert response.status_code == 303 and response.headers["location"] == "/login"


async def _notice_informed_on_28_december(database: Database) -> Case:
    """A case whose prior notice reached 张三 on Monday 28 December 2026, recorded as of the
    next day (the order rules refuse instants ahead of the clock)."""
    async with transaction(database.sessions) as db:
        agency = (await agencies.get_or_create_agency(db, "福州市市场监督管理局")).id
        case = await cases.register_case(db, agency, new_case("榕市监处罚〔2026〕300号", ZHANGSAN.party))
        informed = china(2026, 12, 28)
        kind, payload = parse_event_data("penalty_notice", {
            **NOTICE, "occurred_at": instant_text(informed), "informed_at": instant_text(informed)},
            informed + timedelta(days=1))
        await evidence.append(db, chain=cases.chain_of(case), kind=kind.value, actor="agency:test",
                              payload=payload)
        return case


async def test_new_year_fallback_warning_until_the_calendar_is_loaded(
        client: httpx.AsyncClient, database: Database, data_dir: Path) -> None:
    # LAW.md "Counting days" (APL art. 85): no 2027 arrangement yet, so the 5 working days
    # are counted on the fallback (weekends and 元旦 1 January off) and the page says so;
    # `portal calendar load` of the 2027 arrangement confirms the date and the warning goes
    case = await _notice_informed_on_28_december(database)
    await log_in(client, "zhangsan")
    before = (await client.get(f"/cases/{case.code}")).text
    assert "2027年放假调休安排尚未公布，暂按周末和法定节假日计算，仅供参考" in before
    assert "截止 <strong><time datetime=\"2027-01-05\">2027年1月5日</time> 24:00" in before
    calendar_file = data_dir / "2027.csv"
    calendar_file.write_text(TABLE_2027, encoding="utf-8")
    loaded = await run_cli("calendar", "load", str(calendar_file), database_url=database.url,
                           data_dir=data_dir)
    assert loaded.returncode == 0, loaded.stderr
    assert "已载入 2027 年法定节假日安排：放假 10 天，调休上班 1 天。" in loaded.stdout
    after = (await client.get(f"/cases/{case.code}")).text
    assert "尚未公布" not in after
    assert "截止 <strong><time datetime=\"2027-01-05\">2027年1月5日</time> 24:00" in after


async def test_a_malformed_calendar_file_changes_nothing(database: Database, data_dir: Path) -> None:
    bad = data_dir / "bad.csv"
    # 4 January 2027 is a Monday: it cannot be a weekend made a working day
    bad.write_text("year,date,kind,name\n2027,2027-01-01,holiday,元旦\n2027,2027-01-04,workday,元旦\n",
                   encoding="utf-8")
    result = await run_cli("calendar", "load", str(bad), database_url=database.url, data_dir=data_dir)
    assert result.returncode == 1 and "法定节假日数据文件格式有误：第3行" in result.stderr
    async with database.sessions() as db:
        assert not (await load_calendar(db)).covers(2027)
