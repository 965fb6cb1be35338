"""Every legal act exactly once (LAW.md "Rights before a decision": one act, one record, one
receipt): a form sent twice — a double tap, a refresh, Back and submit again — files once, and
the second answer is the first act's confirmation; the form opened again after filing says 已提交
and leads to the receipt; a second act of the same kind, where the law allows it, is filed only
on purpose, with the first one named. Both databases."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from portal.models import Submission
from tests.conftest import Database
from tests.portal.cases.factories import hidden_fields, notified_case, pdf, post_form, receipt_of, stored
from tests.portal.web.login_flow import log_in


async def _count(database: Database) -> int:
    async with database.sessions() as db:
        return int((await db.execute(select(func.count()).select_from(Submission))).scalar_one())


async def test_a_double_tap_files_one_statement_and_both_answers_show_its_confirmation(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # the same form posted twice at once, with an attachment: one act, one receipt
    case = await notified_case(database, "榕市监处罚〔2026〕601号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/statement"
    fields = {**await hidden_fields(client, path), "text": "所售酸奶系赠品，未收取费用。"}
    files = [("attachments", ("发票.pdf", pdf(), "application/pdf"))]
    first, second = await asyncio.gather(client.post(path, data=fields, files=files),
                                         client.post(path, data=fields, files=files))
    assert first.status_code == second.status_code == 303, (first.text, second.text)
    assert first.headers["location"] == second.headers["location"]
    [submission] = await stored(database)
    assert submission.form_token is not None and submission.form_token in fields["form_token"]
    public_id, _ = await receipt_of(app, client, first.headers["location"])
    assert public_id == submission.public_id
    refreshed = await client.post(path, data=fields, files=files)  # F5 on the answer, later
    assert refreshed.status_code == 303 and refreshed.headers["location"] == first.headers["location"]
    assert await _count(database) == 1


async def test_back_after_filing_says_it_was_filed_and_a_second_one_is_filed_only_on_purpose(
        client: httpx.AsyncClient, database: Database) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕602号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/recusal"
    recusal = {"target": "hearing_officer", "target_name": "王五", "reason": "亲属关系"}
    filed = await post_form(client, path, recusal)
    assert filed.status_code == 303, filed.text
    confirmation = filed.headers["location"]

    back = await client.get(path)  # the browser's Back: the page is not cached, so it is asked again
    assert back.status_code == 200
    assert "回避申请已提交" in back.text and f'href="{confirmation}"' in back.text
    assert 'name="form_token"' not in back.text  # no blank form to file twice by mistake

    again = await client.get(f"{path}?again=1")  # on purpose: the form, with the first act named
    assert 'name="form_token"' in again.text
    assert "您在本案已提交过回避申请，执法机关尚未确认收到" in again.text
    assert f'href="{confirmation}"' in again.text
    second = await post_form(client, path, {**recusal, "target_name": "赵六"}, page=f"{path}?again=1")
    assert second.status_code == 303 and second.headers["location"] != confirmation
    assert [s.content["name"] for s in await stored(database)] == ["王五", "赵六"]


async def test_a_form_without_a_valid_token_files_nothing_and_keeps_what_was_typed(
        client: httpx.AsyncClient, database: Database) -> None:
    # a token is bound to the person, the acting party and the form: one for another case, or
    # none at all, answers the form again (422) with the text and a fresh token
    mine = await notified_case(database, "榕市监处罚〔2026〕603号")
    other = await notified_case(database, "榕市监处罚〔2026〕604号")
    await log_in(client, "zhangsan")
    foreign = await hidden_fields(client, f"/cases/{other.code}/statement")
    answer = await client.post(f"/cases/{mine.code}/statement", data={**foreign, "text": "我的陈述意见"})
    assert answer.status_code == 422
    assert "这份表单已过期，尚未提交" in answer.text and "我的陈述意见" in answer.text
    fresh = re.search(r'name="form_token" value="([^"]+)"', answer.text)
    assert fresh and fresh.group(1) != foreign["form_token"]
    assert await _count(database) == 0
    resent = await client.post(f"/cases/{mine.code}/statement",
                               data={**foreign, "form_token": fresh.group(1), "text": "我的陈述意见"})
    assert resent.status_code == 303
    assert await _count(database) == 1


async def test_the_waivers_confirmation_sent_twice_files_one_waiver(
        client: httpx.AsyncClient, database: Database) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕605号")
    await log_in(client, "zhangsan")
    step = await post_form(client, f"/cases/{case.code}/waiver", {"confirm": "yes"})
    assert step.status_code == 303
    fields = await hidden_fields(client, step.headers["location"])
    nonce = re.search(r'name="nonce" value="([^"]+)"', (await client.get(step.headers["location"])).text)
    assert nonce
    form = {**fields, "nonce": nonce.group(1), "confirmed_again": "yes"}
    first, second = await asyncio.gather(client.post(f"/cases/{case.code}/waiver/confirm", data=form),
                                         client.post(f"/cases/{case.code}/waiver/confirm", data=form))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert "/submissions/" in first.headers["location"]
    assert [s.kind for s in await stored(database)] == ["waiver"]
    back = await client.get(f"/cases/{case.code}/waiver")
    assert "放弃陈述、申辩声明已提交" in back.text and first.headers["location"] in back.text


async def test_an_objection_sent_twice_is_filed_once(client: httpx.AsyncClient, database: Database) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕606号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/objection"
    fields = {**await hidden_fields(client, path), "details": "姓名有误"}
    first, second = await asyncio.gather(client.post(path, data=fields), client.post(path, data=fields))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].startswith("/objections/")
    assert await _count(database) == 1
    again = await client.get(f"{path}?again=1")
    assert "您已对此提出过数据异议，执法机关尚未答复" in again.text
