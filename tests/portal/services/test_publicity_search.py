"""Public search over published items (``services.publicity_search``), on both databases.

FJ art. 21: only what is inside its window is ever found, and an item at 2 years + 1 second
is gone from search, detail and export with no job run. APL art. 48: a withdrawn item is a
notice whose content no longer matches. SECURITY.md 15.3.1: results are projections. The
two search paths (the newest rows checked by LIKE; the trigram index, FTS5 or pg_trgm) and
the bounded scan for 1-2 character keywords are each exercised by shrinking their limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import pytest_asyncio

from portal.database import transaction
from portal.errors import NotFound
from portal.publicity.ingest import submission_from_json
from portal.publicity.window import WithdrawalGround, years_later
from portal.services import publications, publicity_search
from portal.services.calendar import load_calendar
from portal.services.publicity_search import Cursor, PublicItem, SearchFilters, SearchPage
from tests.builders import agency
from tests.conftest import Database
from tests.portal.publicity.factories import T0, body, publish

NOW = T0 + timedelta(days=30)
COMPANIES = ("福州闽江贸易有限公司", "厦门鹭江食品有限公司", "福州闽江建材有限公司", "泉州刺桐物流有限公司",
             "平潭海峡渔业有限公司", "福州榕城超市有限公司")


@dataclass(frozen=True)
class World:
    market: int
    transport: int
    ids: tuple[int, ...]  # by decision date, oldest first


@pytest_asyncio.fixture(loop_scope="session")
async def world(database: Database) -> World:
    market, transport = await agency(database), await agency(database, "厦门市交通运输局")
    ids = []
    for n, company in enumerate(COMPANIES):
        data = body(f"案〔2026〕{n + 1}号", company=company, decided=date(2026, 1, 5) + timedelta(days=7 * n),
                    kind="inspection_result" if n == 3 else "penalty_decision",
                    region="350200" if "厦门" in company else "350100")
        item = await publish(database, transport if n % 2 else market, data, at=T0 + timedelta(hours=n))
        ids.append(item.id)
    return World(market, transport, tuple(ids))


async def search(database: Database, now: datetime = NOW, cursor: Cursor | None = None,
                 page_size: int = 20, **filters: object) -> SearchPage:
    async with database.sessions() as db:
        return await publicity_search.search(db, SearchFilters(**filters), now,  # type: ignore[arg-type]
                                             cursor=cursor, page_size=page_size)


def names(page: SearchPage) -> list[str]:
    return [item.content.party_name if item.content else f"已撤回 {item.agency_case_number}"
            for item in page.items]


async def test_a_fragment_of_a_company_name_finds_it_newest_decision_first(database: Database,
                                                                          world: World) -> None:
    page = await search(database, keyword="闽江")  # two characters: no trigram to look up
    assert names(page) == ["福州闽江建材有限公司", "福州闽江贸易有限公司"]
    assert not page.short_scan and page.next_cursor is None  # it saw every public item
    page = await search(database, keyword="闽江贸")
    assert names(page) == ["福州闽江贸易有限公司"] and not page.short_scan
    assert isinstance(page.items[0], PublicItem)  # a projection, never the ORM row (15.3.1)
    assert names(await search(database, keyword="案〔2026〕3号")) == ["福州闽江建材有限公司"]
    assert names(await search(database, keyword="鹭江 食品")) == ["厦门鹭江食品有限公司"]


async def test_the_trigram_index_answers_when_the_newest_rows_do_not_match(
        database: Database, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # only the oldest item matches, beyond the newest rows the first step checks
    monkeypatch.setattr(publicity_search, "PROBE_ROWS", 2)
    assert names(await search(database, keyword="闽江贸易")) == ["福州闽江贸易有限公司"]
    assert names(await search(database, keyword="91350100999999")) == []
    assert names(await search(database, keyword="渔业 平潭海峡")) == ["平潭海峡渔业有限公司"]


async def test_a_word_seen_a_few_times_among_the_newest_rows_is_read_on_for(
        database: Database, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # found twice in the newest 2 rows but a page needs more: the scan reads on instead of the index
    monkeypatch.setattr(publicity_search, "PROBE_ROWS", 2)
    page = await search(database, keyword="有限公司", page_size=4)
    assert names(page) == list(reversed(COMPANIES))[:4] and page.next_cursor is not None


async def test_short_keywords_scan_a_bounded_window_per_page_and_the_next_page_goes_on(
        database: Database, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publicity_search, "SHORT_SCAN_ROWS", 3)
    first = await search(database, keyword="贸易")  # the oldest item, beyond the newest 3
    assert names(first) == [] and first.short_scan and first.next_cursor is not None
    second = await search(database, keyword="贸易", cursor=first.next_cursor)
    assert names(second) == ["福州闽江贸易有限公司"] and not second.short_scan
    filtered = await search(database, keyword="贸易", agency_id=world.market)  # 3 candidates
    assert names(filtered) == ["福州闽江贸易有限公司"] and not filtered.short_scan


async def test_filters_by_agency_kind_region_and_decision_dates(database: Database, world: World) -> None:
    assert len((await search(database, agency_id=world.transport)).items) == 3
    assert names(await search(database, kind="inspection_result")) == ["泉州刺桐物流有限公司"]
    assert names(await search(database, region_code="350200")) == ["厦门鹭江食品有限公司"]
    page = await search(database, decided_from=date(2026, 1, 12), decided_to=date(2026, 1, 19))
    assert names(page) == ["福州闽江建材有限公司", "厦门鹭江食品有限公司"]
    assert names(await search(database, keyword="闽江", decided_to=date(2026, 1, 12))) == \
        ["福州闽江贸易有限公司"]


async def test_keyset_pages_list_every_item_once_newest_first(database: Database, world: World) -> None:
    seen: list[int] = []
    cursor = None
    for _ in range(4):
        page = await search(database, cursor=cursor, page_size=4)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            break
        cursor = Cursor.parse(page.next_cursor.encode())
    assert seen == list(reversed(world.ids))
    for junk in ("2026-01-05.x", "junk", "2026-02-30.1", f"2026-01-05.{10**30}", "2026-01-05.١٢"):
        assert Cursor.parse(junk) is None, junk


async def test_at_two_years_and_one_second_an_item_is_gone_from_search_detail_and_export(
        database: Database, world: World) -> None:
    # FJ art. 21: the window ends by itself, no job and no agency act involved
    first = world.ids[0]
    end = years_later(T0, 2)
    for now, present in ((end - timedelta(seconds=1), True), (end + timedelta(seconds=1), False)):
        assert (first in [i.id for i in (await search(database, now=now)).items]) is present
        assert (first in [i.id for i in (await search(database, now=now, keyword="闽江贸易")).items]) \
            is present
        exported = [item.id async for item in
                    publicity_search.export_items(database.sessions, SearchFilters(), now)]
        assert (first in exported) is present
        async with database.sessions() as db:
            if present:
                assert (await publicity_search.public_item(db, first, now)).id == first
            else:
                with pytest.raises(NotFound):
                    await publicity_search.public_item(db, first, now)
    assert (await search(database, now=T0 - timedelta(seconds=1))).items == ()  # not yet public


async def test_a_withdrawn_item_is_a_notice_whose_content_no_longer_matches(database: Database,
                                                                           world: World) -> None:
    # APL art. 48: withdrawn within the 60 days because the decision was revoked
    async with transaction(database.sessions) as db:
        await publications.withdraw(
            db, world.market, "agency:test", world.ids[0], ground=WithdrawalGround.DECISION_REVOKED,
            reason="行政复议决定撤销该处罚决定", occurred_on=None, named_persons=(),
            calendar=await load_calendar(db), now=NOW - timedelta(days=1))
    assert names(await search(database, keyword="闽江贸易")) == []
    page = await search(database, keyword="案〔2026〕1号")
    assert names(page) == ["已撤回 案〔2026〕1号"]
    withdrawn = page.items[0]
    assert withdrawn.content is None and withdrawn.withdrawal is not None
    assert withdrawn.withdrawal.reason == "行政复议决定撤销该处罚决定"
    exported = {item.id: item async for item in
                publicity_search.export_items(database.sessions, SearchFilters(), NOW)}
    assert exported[world.ids[0]].content is None


async def test_a_changed_item_shows_its_current_version_and_when_it_changed(database: Database,
                                                                           world: World) -> None:
    # FJ art. 21: published again; the public sees the current version and that it changed
    data = body("案〔2026〕1号", company="福州闽江贸易有限公司", decided=date(2026, 1, 5))
    changed = {k: v for k, v in data.items() if k not in ("kind", "agency_case_number")}
    changed["result"] = "没收超过保质期的酸奶12盒，并处罚款人民币三千元。"
    async with transaction(database.sessions) as db:
        await publications.republish(db, world.market, "agency:test", world.ids[0],
                                     submission_from_json(changed, new=False),
                                     await load_calendar(db), now=NOW - timedelta(days=1))
    async with database.sessions() as db:
        item = await publicity_search.public_item(db, world.ids[0], NOW)
    assert item.changed and item.version == 2 and item.content is not None
    assert item.content.result.endswith("三千元。")
    assert item.versions_published_at == (T0, NOW - timedelta(days=1))
    assert names(await search(database, keyword="三千元")) == ["福州闽江贸易有限公司"]
    assert names(await search(database, keyword="五千元")) == list(reversed(COMPANIES[1:]))


async def test_like_wildcards_in_a_keyword_are_plain_characters(database: Database, world: World) -> None:
    assert names(await search(database, keyword="%%%")) == []
    assert names(await search(database, keyword="_")) == []
