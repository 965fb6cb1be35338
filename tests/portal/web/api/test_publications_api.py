"""The publishing API: publish, change, withdraw, read back; every response also checked
against the OpenAPI document by the ``api`` client; both databases.

Time is pinned through ``app.state.clock`` (``portal.web.clock``), never waited for:
FJ art. 21 (60 days to 2 years, a change keeps the history), APL art. 48 (withdrawal
before 60 days only on its grounds), the 2018 guidance (7 working days, a warning), FJ art. 8
and PIPL (the raw text reaches no table, log or index), ASVS v5.0.0-8.4.1 (another agency's
item is 404).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text
from starlette.applications import Starlette

from portal.evidence_hash import instant_text
from portal.identifiers import id_number_check_char
from portal.publicity.window import years_later
from portal.services.agencies import NewClient
from tests.conftest import Database
from tests.portal.publicity.factories import T0, body, change_of
from tests.portal.web.api.conftest import bearer, fetch_token

URL = "/api/v1/publications"
ID_X = "11010519491231002" + id_number_check_char("11010519491231002")
RAW = {  # values no other test stores, so that finding one anywhere is a leak
    "name": "欧阳雪岚", "given": "雪岚", "id": ID_X, "mobile": "139 1234 5678",
    "mobile_digits": "13912345678", "address": "金鸡山路77号9栋1203室",
    "card": "6217 0011 2233 4455 667", "witness": "司徒明远",
}
PERSON_BODY = body(
    "榕市监罚〔2026〕77号", party={"kind": "person", "name": RAW["name"]},
    violation=(f"当事人{RAW['name']}（身份证号码：{RAW['id']}，联系电话：{RAW['mobile']}）在福州市晋安区"
               f"{RAW['address']}无证经营餐饮，收款账号{RAW['card']}。证人{RAW['witness']}证实。"),
)


def pin(app: Starlette, at: datetime) -> None:
    clock: Callable[[], datetime] = lambda: at  # noqa: E731
    app.state.clock = clock


async def publish(api: httpx.AsyncClient, token: str, data: dict[str, Any] | None = None) -> httpx.Response:
    return await api.post(URL, json=body() if data is None else data, headers=bearer(token))


async def test_publishing_masks_and_answers_what_was_stored(api: httpx.AsyncClient, app: Starlette,
                                                            agency_a: NewClient) -> None:
    # FJ art. 8, GD art. 46: the answer is the stored, masked content, with what was masked where
    pin(app, T0)
    token = await fetch_token(api, agency_a)
    response = await publish(api, token, PERSON_BODY)
    assert response.status_code == 201, response.text
    item = response.json()
    assert response.headers["location"] == f"{URL}/{item['id']}"
    assert item["status"] == "public" and item["version"] == 1 and item["warnings"] == []
    assert item["published_at"] == "2026-03-02T02:00:00.000000Z"
    assert item["public_until"] == "2028-03-02T02:00:00.000000Z"  # FJ art. 21: 2 years
    assert item["minimum_public_until"] == "2026-05-01T02:00:00.000000Z"  # 60 days
    version = item["versions"][0]
    assert version["party"] == {"kind": "person", "name": "欧阳**"}
    assert {m["kind"] for m in version["masked"]} >= {"person_name", "id_number", "mobile", "address",
                                                      "bank_card"}
    assert item["public_url"].endswith(f"/publicity/{item['id']}")


async def test_a_decision_published_after_7_working_days_is_accepted_with_a_warning(
        api: httpx.AsyncClient, app: Starlette, agency_a: NewClient) -> None:
    # State Council Office guidance (2018), APL art. 85: decided Friday 20 February 2026 (the
    # Spring Festival holiday runs to 23 February), the 7th working day is 3 March
    token = await fetch_token(api, agency_a)
    pin(app, T0)  # Monday 2 March: in time
    assert (await publish(api, token, body("甲〔2026〕1号", decided=T0.date() - timedelta(days=10)))
            ).json()["warnings"] == []
    pin(app, T0 + timedelta(days=2))  # Wednesday 4 March: the 8th working day
    late = (await publish(api, token, body("甲〔2026〕2号", decided=T0.date() - timedelta(days=10)))).json()
    assert [(w["code"], w["deadline"]) for w in late["warnings"]] == [("published_late", "2026-03-03")]
    assert late["versions"][0]["warnings"] == late["warnings"]
    future = await publish(api, token, body("甲〔2026〕3号", decided=T0.date() + timedelta(days=3)))
    assert future.status_code == 422 and future.json()["errors"] == {"decision_date": "in_future"}


async def test_withdrawal_after_61_days_on_any_ground_after_10_days_only_on_apl_48(
        api: httpx.AsyncClient, app: Starlette, agency_a: NewClient) -> None:
    # FJ art. 21 (60-day minimum); APL art. 48 (changed, revoked, illegal, invalid override it)
    token = await fetch_token(api, agency_a)
    pin(app, T0)
    old = (await publish(api, token, body("乙〔2026〕1号"))).json()["id"]
    recent_body = body("乙〔2026〕2号")
    pin(app, T0 + timedelta(days=51))
    recent = (await publish(api, token, recent_body)).json()["id"]
    pin(app, T0 + timedelta(days=61))  # old: 61 days; recent: 10 days
    other = {"ground": "other", "reason": "公示目的已经实现"}
    refused = await api.post(f"{URL}/{recent}/withdrawal", json=other, headers=bearer(token))
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "withdrawal_too_early"
    assert problem["earliest_withdrawal"] == instant_text(T0 + timedelta(days=51 + 60))
    assert problem["allowed_grounds"] == ["decision_changed", "decision_revoked", "confirmed_illegal",
                                          "confirmed_invalid"]
    accepted = await api.post(f"{URL}/{old}/withdrawal", json=other, headers=bearer(token))
    assert accepted.status_code == 201 and accepted.json()["status"] == "withdrawn"
    revoked = await api.post(f"{URL}/{recent}/withdrawal", headers=bearer(token), json={
        "ground": "decision_revoked", "reason": f"行政复议决定撤销原处罚决定，经办人{RAW['witness']}",
        "occurred_on": "2026-04-27", "named_persons": [RAW["witness"]]})
    assert revoked.status_code == 201, revoked.text
    withdrawal = revoked.json()["withdrawal"]
    assert withdrawal["reason"] == "行政复议决定撤销原处罚决定，经办人司徒**"
    # APL art. 48, 85: the 3 working days after Monday 27 April are 28, 29 and 30 April; 2 May
    # (in the May Day holiday) is late, which is warned about, not refused
    assert [w["code"] for w in revoked.json()["warnings"]] == ["withdrawn_late"]
    again = await api.post(f"{URL}/{recent}/withdrawal", json=other, headers=bearer(token))
    assert again.status_code == 409 and again.json()["code"] == "already_withdrawn"
    changed = await api.put(f"{URL}/{recent}", json=change_of(recent_body), headers=bearer(token))
    assert changed.status_code == 409 and changed.json()["code"] == "publication_withdrawn"
    page = await api.get(f"/publicity/{recent}")
    assert page.status_code == 200 and "本信息已由执法机关撤回" in page.text and "司徒**" in page.text


async def test_a_change_is_a_new_version_and_the_history_is_kept(api: httpx.AsyncClient, app: Starlette,
                                                                 agency_a: NewClient) -> None:
    # FJ art. 21: published again under the same window rule; the history is kept
    token = await fetch_token(api, agency_a)
    pin(app, T0)
    first = (await publish(api, token)).json()
    pin(app, T0 + timedelta(days=5))
    response = await api.put(f"{URL}/{first['id']}", headers=bearer(token),
                             json=change_of(body(), result="罚款人民币三千元。", amount_fen=300_000))
    assert response.status_code == 200, response.text
    item = (await api.get(f"{URL}/{first['id']}", headers=bearer(token))).json()
    assert item["version"] == 2 and [v["version"] for v in item["versions"]] == [1, 2]
    assert item["versions"][0] == first["versions"][0]  # the first version, untouched
    assert item["versions"][1]["result"] == "罚款人民币三千元。"
    assert item["first_published_at"] == first["published_at"]
    assert item["published_at"] == "2026-03-07T02:00:00.000000Z"
    assert item["public_until"] == "2028-03-07T02:00:00.000000Z"  # the window runs again
    assert item["warnings"] == []  # a GET reports no act
    page = (await api.get(f"/publicity/{first['id']}")).text
    assert "罚款人民币三千元。" in page and "第 2 版" in page and "五千元" not in page


async def test_refusals_are_problem_details_with_stable_codes(api: httpx.AsyncClient, app: Starlette,
                                                              agency_a: NewClient) -> None:
    token = await fetch_token(api, agency_a)
    pin(app, T0)
    first = (await publish(api, token)).json()
    duplicate = await publish(api, token)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "publication_exists"
    assert duplicate.json()["publication_id"] == first["id"]
    bad = await publish(api, token, {**body(), "region_code": "110000", "agency_case_number": ""})
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"region_code": "invalid_choice", "agency_case_number": "required"}
    wrong_type = await api.post(URL, content=b"kind=x", headers={**bearer(token),
                                                                "content-type": "text/plain"})
    assert wrong_type.status_code == 415
    pin(app, years_later(T0, 2))
    expired = await api.put(f"{URL}/{first['id']}", json=change_of(body()), headers=bearer(token))
    assert expired.status_code == 409 and expired.json()["code"] == "publication_expired"
    gone = await api.post(f"{URL}/{first['id']}/withdrawal", headers=bearer(token),
                          json={"ground": "decision_revoked", "reason": "撤销"})
    assert gone.status_code == 409 and gone.json()["code"] == "publication_expired"
    assert (await api.get(f"{URL}/{first['id']}", headers=bearer(token))).json()["status"] == "expired"
    assert (await api.get(f"{URL}/{2**70}", headers=bearer(token))).status_code == 404


async def test_another_agency_neither_sees_nor_changes_an_item(api: httpx.AsyncClient, app: Starlette,
                                                               agency_a: NewClient,
                                                               agency_b: NewClient) -> None:
    # ASVS v5.0.0-8.4.1: another agency's item answers exactly like a missing one
    pin(app, T0 + timedelta(days=70))
    mine = (await publish(api, await fetch_token(api, agency_a))).json()["id"]
    theirs = bearer(await fetch_token(api, agency_b))
    for response in (
        await api.get(f"{URL}/{mine}", headers=theirs),
        await api.put(f"{URL}/{mine}", json=change_of(body()), headers=theirs),
        await api.post(f"{URL}/{mine}/withdrawal", json={"ground": "other", "reason": "x"}, headers=theirs),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (await api.get(f"{URL}/{mine}")).status_code == 401


async def test_the_raw_text_never_reaches_the_tables_the_logs_or_the_search_index(
        api: httpx.AsyncClient, app: Starlette, agency_a: NewClient, database: Database,
        caplog: pytest.LogCaptureFixture) -> None:
    # FJ art. 8, GD art. 46, PIPL; SECURITY.md 16.2: after ingest, search every row of every
    # table (and on SQLite the database file itself, FTS5 index pages included) and every
    # log record for each raw personal datum
    caplog.set_level(logging.DEBUG)
    pin(app, T0)
    token = await fetch_token(api, agency_a)
    response = await publish(api, token, {**PERSON_BODY, "named_persons": [RAW["witness"]]})
    assert response.status_code == 201
    await api.post(f"{URL}/{response.json()['id']}/withdrawal", headers=bearer(token), json={
        "ground": "decision_changed", "reason": f"当事人{RAW['name']}的处罚决定已变更",
        "named_persons": [RAW["name"]]})
    raw_values = list(RAW.values())
    dump = await _dump(database)
    for value in raw_values:
        assert value not in dump, f"{value} stored"
    logs = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for value in raw_values:
        assert value not in logs, f"{value} logged"
    assert "欧阳**" in dump and f"{ID_X[0]}{'*' * 16}{ID_X[-1]}" in dump  # the masked forms are there


async def _dump(database: Database) -> str:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        parts = [str(row) for table in tables
                 for row in (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()]
    if database.backend == "sqlite":  # the file itself: index pages, free pages, the WAL
        path = Path(database.url.split("///", 1)[1])
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                parts.append(file.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)
