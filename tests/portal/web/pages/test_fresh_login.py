"""One fresh-login rule for every legal act (SECURITY.md "Identity and sessions", ASVS
v5.0.0-7.5.1; "Deployment configuration": a login from the last 10 minutes), and nothing typed
is lost across it, attachments that passed the checks included: a statement, hearing request,
recusal, payment plan, waiver or objection posted on a login older than
``Settings.fresh_login_minutes`` files nothing and sends the person to log in again; afterwards
the form comes back with what was typed, held on the server for that person (never in the URL or
a cookie), and is filed once; the draft goes when it is filed, or a day later. Both databases,
through the real HTTP flow and the development identity provider."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from portal.database import transaction, utcnow
from portal.models import FormDraft, SubmissionAttachment, WebSession
from portal.models.cases import CaseParty
from portal.services import form_drafts
from tests.conftest import CSRF_RE, Database
from tests.portal.case_history import china
from tests.portal.cases.factories import (
    FORM_TOKEN_RE,
    decide,
    hidden_fields,
    notified_case,
    pdf,
    png,
    post_form,
    stored,
)
from tests.portal.web.login_flow import age_login, log_in

REAUTH = "/login?reauth=1"


async def _drafts(database: Database) -> int:
    async with database.sessions() as db:
        return int((await db.execute(select(func.count()).select_from(FormDraft))).scalar_one())


# slug → the fields typed, and a piece of the refilled form that shows each came back
ACTS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "statement": ({"text": "所售酸奶系赠品，未收取费用。"}, ("所售酸奶系赠品，未收取费用。",)),
    "hearing-request": ({"reason": "对违法所得的认定有异议", "agent_1": "李律师"},
                        ("对违法所得的认定有异议", 'value="李律师"')),
    "recusal": ({"target": "hearing_officer", "target_name": "王五", "reason": "亲属关系"},
                ('value="hearing_officer" checked', 'value="王五"', "亲属关系")),
    "payment-plan": ({"plan": "instalments", "instalments": "4", "reasons": "经营困难"},
                     ('value="instalments" checked', "经营困难")),
    "objection": ({"details": "姓名有误", "correction": "张三丰"}, ("姓名有误", "张三丰")),
}


@pytest.mark.parametrize("slug", sorted(ACTS))
async def test_a_stale_login_logs_in_again_and_the_form_comes_back_filled_in(
        app: Starlette, client: httpx.AsyncClient, database: Database, slug: str) -> None:
    typed, shown = ACTS[slug]
    decided = slug == "payment-plan"  # only after a decision with a fine: windows long over
    case = await notified_case(database, "榕市监处罚〔2026〕701号",
                               informed=china(2026, 11, 2) if decided else None)
    if decided:
        async with transaction(database.sessions) as db:
            await decide(db, case)
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/{slug}"
    opened = await hidden_fields(client, path)
    await age_login(database)  # the form was filled in slowly: the login is now old

    refused = await client.post(path, data={**opened, **typed})
    assert refused.status_code == 303 and refused.headers["location"] == REAUTH
    assert await stored(database) == []
    assert all(value not in refused.headers["location"] for value in typed.values())
    assert not any(value in str(client.cookies) for value in typed.values() if len(value) > 2)

    back = await log_in(client, "zhangsan")  # the provider is asked for a fresh authentication
    assert back.status_code == 303 and back.headers["location"] == path
    form = await client.get(path)
    assert "已恢复您上次填写但尚未提交的内容" in form.text
    for piece in shown:
        assert piece in form.text, piece
    assert f'name="form_token" value="{opened["form_token"]}"' in form.text  # the same act
    filed = await post_form(client, path, typed)
    assert filed.status_code == 303, filed.text
    assert len(await stored(database)) == 1
    assert await _drafts(database) == 0  # filed: the draft is gone


async def test_the_waiver_needs_a_fresh_login_at_both_steps(
        client: httpx.AsyncClient, database: Database) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕702号")
    await log_in(client, "zhangsan")
    step = await post_form(client, f"/cases/{case.code}/waiver", {"confirm": "yes"})
    assert step.status_code == 303
    fields = await hidden_fields(client, step.headers["location"])
    page = (await client.get(step.headers["location"])).text
    nonce = page.split('name="nonce" value="', 1)[1].split('"', 1)[0]
    await age_login(database)
    refused = await client.post(f"/cases/{case.code}/waiver/confirm",
                                data={**fields, "nonce": nonce, "confirmed_again": "yes"})
    assert refused.status_code == 303 and refused.headers["location"] == REAUTH
    assert await stored(database) == []
    back = await log_in(client, "zhangsan")
    assert back.headers["location"] == f"/cases/{case.code}/waiver/confirm"  # step 1 still holds
    done = await post_form(client, f"/cases/{case.code}/waiver/confirm",
                           {"nonce": nonce, "confirmed_again": "yes"})
    assert done.status_code == 303 and "/submissions/" in done.headers["location"]
    assert [s.kind for s in await stored(database)] == ["waiver"]


async def test_a_draft_is_kept_for_a_day_and_only_for_its_person(database: Database) -> None:
    # retention (PIPL art. 19; portal.retention.DRAFTS): what was typed but not filed goes a day
    # after it was kept, and is given back only to its person acting for the same party
    case = await notified_case(database, "榕市监处罚〔2026〕703号")
    async with database.sessions() as db:
        person = (await db.execute(select(CaseParty.party_id)
                                   .where(CaseParty.case_id == case.id))).scalar_one()
    now, path = utcnow(), f"/cases/{case.code}/statement"
    async with transaction(database.sessions) as db:
        await form_drafts.keep(db, person_id=person, acting_party_id=person, path=path,
                               fields={"text": "未提交的陈述"}, now=now)
    async with database.sessions() as db:
        assert await form_drafts.find(db, person_id=person, acting_party_id=person, path=path,
                                      now=now + timedelta(hours=23)) == {"text": "未提交的陈述"}
        assert await form_drafts.find(db, person_id=person, acting_party_id=person + 1, path=path,
                                      now=now) is None
        assert await form_drafts.find(db, person_id=person, acting_party_id=person, path=path,
                                      now=now + timedelta(days=1, seconds=1)) is None
    async with transaction(database.sessions) as db:
        assert await form_drafts.prune(db, now=now + timedelta(hours=23)) == 0
        assert await form_drafts.prune(db, now=now + timedelta(days=1, seconds=1)) == 1


async def test_two_posts_of_one_form_at_once_keep_one_draft(database: Database) -> None:
    # a double tap on a form whose file is refused: both posts keep the draft at once; neither
    # may fail on the one-draft-per-person-and-form rule (it was a 500 on PostgreSQL)
    case = await notified_case(database, "榕市监处罚〔2026〕704号")
    async with database.sessions() as db:
        person = (await db.execute(select(CaseParty.party_id)
                                   .where(CaseParty.case_id == case.id))).scalar_one()
    path, first_in = f"/cases/{case.code}/statement", asyncio.Event()

    async def keep(text: str, files: list[bytes], wait: bool) -> None:
        async with transaction(database.sessions) as db:
            if wait:
                await first_in.wait()
            await form_drafts.keep(db, person_id=person, acting_party_id=person, path=path,
                                   fields={"text": text}, now=utcnow(), files=files)
            if not wait:
                first_in.set()
                await asyncio.sleep(0.2)  # still uncommitted while the second one writes

    await asyncio.gather(keep("第一次", [b"one", b"two"], False), keep("第二次", [b"three"], True))
    async with database.sessions() as db:
        assert await form_drafts.find(db, person_id=person, acting_party_id=person, path=path,
                                      now=utcnow()) == {"text": "第二次"}
        assert await form_drafts.files(db, person_id=person, acting_party_id=person, path=path,
                                       now=utcnow()) == [b"three"]
    assert await _drafts(database) == 1


async def test_a_statement_posted_after_the_session_lapsed_is_kept_for_its_person(
        client: httpx.AsyncClient, database: Database) -> None:
    # the idle timeout passed while the person was typing: the form is neither refused as forged
    # nor lost; after logging in again it is there, and it is filed once
    case = await notified_case(database, "榕市监处罚〔2026〕704号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/statement"
    opened = await hidden_fields(client, path)
    async with transaction(database.sessions) as db:
        await db.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                         .values(last_seen_at=utcnow() - timedelta(hours=1)))
    lapsed = await client.post(path, data={**opened, "text": "超时前写好的陈述"})
    assert lapsed.status_code == 303 and lapsed.headers["location"] == "/login"
    assert await stored(database) == [] and await _drafts(database) == 1
    back = await log_in(client, "zhangsan")
    assert back.headers["location"] == path
    form = await client.get(path)
    assert "超时前写好的陈述" in form.text and "已恢复您上次填写但尚未提交的内容" in form.text
    filed = await post_form(client, path, {"text": "超时前写好的陈述"})
    assert filed.status_code == 303
    [submission] = await stored(database)
    assert submission.content["text"] == "超时前写好的陈述" and await _drafts(database) == 0


async def test_attachments_that_passed_are_kept_after_another_fields_error_and_across_the_login(
        client: httpx.AsyncClient, database: Database) -> None:
    # attachments that passed the checks are not chosen again after another field's error
    case = await notified_case(database, "榕市监处罚〔2026〕705号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/statement"
    photo = [("attachments", ("现场照片.png", png(), "image/png"))]
    wrong = await client.post(path, data={**await hidden_fields(client, path), "text": ""}, files=photo)
    assert wrong.status_code == 422 and "请填写陈述、申辩的意见" in wrong.text
    assert "已上传的附件（将随本次提交）" in wrong.text and "附件1：PNG 文件" in wrong.text
    fields = {"csrf_token": CSRF_RE.findall(wrong.text)[0], "keep_files": "yes",
              "form_token": FORM_TOKEN_RE.findall(wrong.text)[0]}

    await age_login(database)  # and then the login grows old before the second try
    refused = await client.post(path, data={**fields, "text": "照片可以证明"},
                                files=[("attachments", ("发票.pdf", pdf(), "application/pdf"))])
    assert refused.status_code == 303 and refused.headers["location"] == REAUTH
    await log_in(client, "zhangsan")
    form = await client.get(path)
    assert "照片可以证明" in form.text and "附件1：PNG 文件" in form.text and "附件2：PDF 文件" in form.text
    filed = await post_form(client, path, {"text": "照片可以证明", "keep_files": "yes"})
    assert filed.status_code == 303, filed.text
    [submission] = await stored(database)
    async with database.sessions() as db:
        kinds = (await db.execute(select(SubmissionAttachment.media_type)
                                  .where(SubmissionAttachment.submission_id == submission.id)
                                  .order_by(SubmissionAttachment.position))).scalars().all()
    assert kinds == ["image/png", "application/pdf"]
    assert await _drafts(database) == 0


async def test_attachments_kept_after_an_error_survive_the_session_lapsing(
        client: httpx.AsyncClient, database: Database) -> None:
    # the photo passed its checks with the first try; the session lapses before the second: after
    # logging in again the form still lists it, and the act is filed with it
    case = await notified_case(database, "榕市监处罚〔2026〕706号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/statement"
    photo = [("attachments", ("现场照片.png", png(), "image/png"))]
    wrong = await client.post(path, data={**await hidden_fields(client, path), "text": ""}, files=photo)
    assert wrong.status_code == 422 and "附件1：PNG 文件" in wrong.text
    fields = {"csrf_token": CSRF_RE.findall(wrong.text)[0], "keep_files": "yes",
              "form_token": FORM_TOKEN_RE.findall(wrong.text)[0]}
    async with transaction(database.sessions) as db:
        await db.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                         .values(last_seen_at=utcnow() - timedelta(hours=1)))
    lapsed = await client.post(path, data={**fields, "text": "照片可以证明"})
    assert lapsed.status_code == 303 and lapsed.headers["location"] == "/login"
    await log_in(client, "zhangsan")
    form = await client.get(path)
    assert "照片可以证明" in form.text and "附件1：PNG 文件" in form.text
    filed = await post_form(client, path, {"text": "照片可以证明", "keep_files": "yes"})
    assert filed.status_code == 303, filed.text
    [submission] = await stored(database)
    async with database.sessions() as db:
        kinds = (await db.execute(select(SubmissionAttachment.media_type).where(
            SubmissionAttachment.submission_id == submission.id))).scalars().all()
    assert kinds == ["image/png"]
