"""Objections to data (数据异议 / 纠错; LAW.md "Publicity and privacy": GD art. 49, FJ art. 15):
a party objects from its case page, from a document in its mailbox, or, as a person a published
item concerns, from the item's public page; it gets a receipt sealed by the portal, the agency
receives the objection as a submission and answers it once, the party reads the answer and is
notified, and a published item under objection says so to everyone without saying who objected.
Both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from portal.database import transaction, utcnow
from portal.legal_calendar import china_date
from portal.models import EvidenceEvent, OutboxMessage, Submission
from portal.publicity import MaskResult, ingest
from portal.publicity.ingest import submission_from_json
from portal.services import agencies, cases, evidence, publication_subjects, publications
from portal.services.calendar import load_calendar
from portal.services.publications import chain_of
from tests.builders import deliver, sign_consent
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.cases.factories import AGENCY, agency_http, notified_case, pdf, pdf_text, png, post_form
from tests.portal.publicity.factories import body as publication_body
from tests.portal.web.delegation_flow import act_for, browser, granted_id, person_id
from tests.portal.web.login_flow import log_in

OBJECTION_PAGE = re.compile(r"^/objections/(\w{32})$")


def objection_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    match = OBJECTION_PAGE.match(response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def test_an_objection_to_the_case_is_sealed_received_by_the_agency_and_answered(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # GD art. 49; FJ art. 15; PIPL art. 46: the party objects to what its case records, with
    # evidence; the receipt proves when and what; the agency answers once; the party reads it
    case = await notified_case(database, "榕市监处罚〔2026〕401号")
    await log_in(client, "zhangsan")
    page = (await client.get(f"/cases/{case.code}")).text
    assert f'href="/cases/{case.code}/objection"' in page  # offered on the case page
    form = await client.get(f"/cases/{case.code}/objection")
    assert form.status_code == 200 and "本案的案件信息" in form.text
    assert "《福建省一体化大融合行政执法平台管理暂行办法》第十五条" in form.text  # the province's rule
    empty = await post_form(client, f"/cases/{case.code}/objection", {"details": " "})
    assert empty.status_code == 422 and "请写明哪些信息有误以及理由" in empty.text
    answer = await post_form(client, f"/cases/{case.code}/objection",
                             {"details": "案由中的违法行为发生地有误，当日本店未营业。",
                              "correction": "违法行为发生地：无"},
                             files=[("attachments", ("停业证明.pdf", pdf(), "application/pdf"))])
    public_id = objection_id(answer)
    confirmation = (await client.get(f"/objections/{public_id}")).text
    assert "数据异议已提交" in confirmation and "正在核查" in confirmation
    receipt = await client.get(f"/objections/{public_id}/receipt")
    assert receipt.status_code == 200 and (await app.state.notary.verify(receipt.content)).passed
    text = pdf_text(receipt.content)
    for expected in ("数据异议提交回执", public_id, "本案的案件信息", "当日本店未营业", "附件1.pdf",
                     "个人信息保护法》第四十六条"):
        assert expected in text, expected

    agency = await agency_http(app, database)
    listed = (await agency.get("/api/v1/submissions?kind=objection")).json()["submissions"]
    assert [s["submission_id"] for s in listed] == [public_id]
    assert listed[0]["subject"] == {"kind": "case", "delivery_id": None, "document_title": None,
                                    "publication_id": None, "publication_version": None}
    assert listed[0]["content"]["correction"] == "违法行为发生地：无" and listed[0]["answer"] is None

    url = f"/api/v1/objections/{public_id}/answer"
    given = {"outcome": "corrected", "text": "经核实，已更正案由中的违法行为发生地。"}
    first = await agency.post(url, json=given)
    assert first.status_code == 201, first.text
    again = await agency.post(url, json=given)  # a retry whose reply was lost: the first answer
    assert again.status_code == 200 and again.json() == first.json()
    other = await agency.post(url, json={**given, "outcome": "unchanged"})
    assert other.status_code == 409 and other.json()["code"] == "objection_already_answered"
    shown = (await agency.get(f"/api/v1/submissions/{public_id}")).json()
    assert shown["answer"]["outcome"] == "corrected" and shown["acknowledged_at"] is not None

    seen = (await client.get(f"/objections/{public_id}")).text
    assert "已更正" in seen and "经核实，已更正案由中的违法行为发生地。" in seen
    assert "执法机关答复数据异议" in (await client.get(f"/cases/{case.code}")).text  # timeline
    listing = (await client.get("/objections")).text
    assert f"/objections/{public_id}" in listing and "已更正" in listing
    async with database.sessions() as db:
        kinds = [e.kind for e in (await db.execute(select(EvidenceEvent).where(
            EvidenceEvent.chain == cases.chain_of(case)).order_by(EvidenceEvent.seq))).scalars()]
        assert kinds[-4:] == ["submission", "submission_receipt_issued", "objection_answered",
                              "submission_acknowledged"]
        assert (await evidence.verify_chains(db)).ok
        notices = (await db.execute(select(OutboxMessage.kind).where(
            OutboxMessage.kind == "objection_answered"))).scalars().all()
        assert notices  # the party is told (in the portal at least)
    await agency.aclose()


async def test_a_closed_case_and_a_served_document_take_objections(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # GD art. 49: wrong data stays wrong after a case ends; a document in the mailbox is
    # objected to from its page, and the agency sees which document
    case = await notified_case(database, "榕市监处罚〔2026〕402号")
    async with transaction(database.sessions) as db:
        await cases.add_stage_event(db, case, "closed", {}, "agency:test")
        [party] = await cases.parties(db, case)
    await sign_consent(database, party.id)
    delivery = await deliver(database, app.state.blobs, party.id, case.id, title="榕市监告〔2026〕402号")
    await log_in(client, "zhangsan")
    closed = await post_form(client, f"/cases/{case.code}/objection", {"details": "当事人住址有误"})
    objection_id(closed)
    item = (await client.get(f"/mailbox/{delivery.public_id}")).text
    assert f"/mailbox/{delivery.public_id}/objection" in item
    answer = await post_form(client, f"/mailbox/{delivery.public_id}/objection",
                             {"details": "告知书中的货值金额计算有误"},
                             files=[("attachments", ("进货单.png", png(), "image/png"))])
    public_id = objection_id(answer)
    [receipt_text] = [pdf_text((await client.get(f"/objections/{public_id}/receipt")).content)]
    assert "送达的文书《榕市监告〔2026〕402号》" in receipt_text
    async with database.sessions() as db:
        stored = (await db.execute(select(Submission).where(Submission.public_id == public_id))).scalar_one()
    assert stored.delivery_id == delivery.id and stored.case_id == case.id
    assert stored.content["subject"] == {"kind": "delivery", "delivery": delivery.public_id,
                                         "title": "榕市监告〔2026〕402号"}


async def test_a_person_a_published_item_concerns_objects_and_the_item_says_so_publicly(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # GD art. 49; FJ art. 8, 15: the item names 张三 masked; the agency gave his ID number, so
    # logged in he is recognised and may object; everyone then sees the item is under
    # objection, nobody sees by whom; the answer ends the notice
    http = await agency_http(app, database)
    decided = china_date(utcnow()) - timedelta(days=2)
    published = await http.post("/api/v1/publications", json=publication_body(
        "榕市监罚〔2026〕403号", decided=decided,
        party=ZHANGSAN.api,
        violation="当事人张三销售过期食品，证人李四（身份证号码350102197811037895）在场。",
        named_persons=[{"name": "李四", "id_number": "350102197811037895"}]))
    assert published.status_code == 201, published.text
    item = published.json()["id"]
    assert ZHANGSAN.id_number not in published.text  # never stored, never answered

    anonymous = browser(app)
    before = (await anonymous.get(f"/publicity/{item}")).text
    assert "正在核查" not in before and f"/publicity/{item}/objection" in before
    assert (await anonymous.get(f"/publicity/{item}/objection")).headers["location"] == "/login"

    await log_in(client, "zhangsan")
    assert (await client.get(f"/publicity/{item}/objection")).status_code == 200
    answer = await post_form(client, f"/publicity/{item}/objection", {"details": "我当日不在福州"})
    public_id = objection_id(answer)
    page = (await anonymous.get(f"/publicity/{item}")).text
    assert "本信息正在核查" in page and "张三" not in page and "我当日不在福州" not in page
    search = (await anonymous.get("/publicity?q=榕市监罚〔2026〕403号")).text
    assert "异议核查中" in search
    receipt = pdf_text((await client.get(f"/objections/{public_id}/receipt")).content)
    assert f"执法信息公示第{item}号（第1版）" in receipt and "榕市监罚〔2026〕403号" in receipt

    async with database.sessions() as db:
        kinds = [e.kind for e in (await db.execute(select(EvidenceEvent).where(
            EvidenceEvent.chain == chain_of(item)).order_by(EvidenceEvent.seq))).scalars()]
    assert kinds[:2] == ["publication_published", "submission"]  # in the item's own chain
    answered = await http.post(f"/api/v1/objections/{public_id}/answer", json={
        "outcome": "unchanged", "text": "经核实，现场检查记录和监控录像显示当事人当日在场。"})
    assert answered.status_code == 201, answered.text
    assert "本信息正在核查" not in (await anonymous.get(f"/publicity/{item}")).text
    await anonymous.aclose()
    await http.aclose()


async def test_only_whom_an_item_concerns_may_object_and_only_the_objector_reads_it(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # GD art. 49 with SECURITY.md 8.2.2: a person the item does not concern is told so (403,
    # nothing filed); another party's objection is 404; a mailbox-only delegate cannot file;
    # a form without its CSRF token is refused; the agency can answer only its own, only an
    # objection, and only with a well-formed answer
    http = await agency_http(app, database)
    published = await http.post("/api/v1/publications", json=publication_body(
        "榕市监罚〔2026〕404号", decided=china_date(utcnow()) - timedelta(days=1),
        party=ZHANGSAN.api))
    item = published.json()["id"]
    await log_in(client, "zhangsan")
    mine = objection_id(await post_form(client, f"/publicity/{item}/objection", {"details": "有误"}))
    statement_case = await notified_case(database, "榕市监处罚〔2026〕405号")
    statement = await post_form(client, f"/cases/{statement_case.code}/statement", {"text": "陈述"})
    statement_id = statement.headers["location"].rsplit("/", 1)[1]

    wangwu = browser(app)
    await log_in(wangwu, "wangwu")
    refused = await post_form(wangwu, f"/publicity/{item}/objection", {"details": "有误"},
                              page=f"/publicity/{item}")
    assert refused.status_code == 403 and "平台无法确认该信息与您有关" in refused.text
    assert (await wangwu.get(f"/objections/{mine}")).status_code == 404
    assert (await wangwu.get(f"/objections/{mine}/receipt")).status_code == 404
    assert (await wangwu.get(f"/cases/{statement_case.code}/objection")).status_code == 404
    await granted_id(client, "mailbox")  # 王五 may read 张三's mailbox, not act
    await act_for(wangwu, await person_id(database, "张三"))
    assert (await wangwu.get(f"/objections/{mine}")).status_code == 200  # reading: mailbox scope
    filing = await post_form(wangwu, f"/cases/{statement_case.code}/objection", {"details": "有误"},
                             page="/")
    assert filing.status_code == 404
    no_csrf = await client.post(f"/cases/{statement_case.code}/objection", data={"details": "有误"})
    assert no_csrf.status_code == 403

    other = await agency_http(app, database, "厦门市交通运输局")
    good = {"outcome": "corrected", "text": "已更正"}
    assert (await other.post(f"/api/v1/objections/{mine}/answer", json=good)).status_code == 404
    assert (await http.post(f"/api/v1/objections/{statement_id}/answer", json=good)).status_code == 404
    bad = await http.post(f"/api/v1/objections/{mine}/answer",
                          json={"outcome": "maybe", "text": "", "extra": 1})
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"outcome": "invalid_choice", "text": "required",
                                    "extra": "unknown_field"}
    async with database.sessions() as db:
        filed = (await db.execute(select(Submission.public_id).where(
            Submission.kind == "objection"))).scalars().all()
    assert filed == [mine]
    for closing in (wangwu, other, http):
        await closing.aclose()


async def test_a_corrected_version_is_named_in_the_answer(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # FJ art. 21 with GD art. 49: a correction is a new version; the answer names it, and the
    # person is recognised on the new version too when the agency names them again
    http = await agency_http(app, database)
    data = publication_body("榕市监罚〔2026〕406号", decided=china_date(utcnow()) - timedelta(days=1),
                            party=ZHANGSAN.api)
    item = (await http.post("/api/v1/publications", json=data)).json()["id"]
    await log_in(client, "zhangsan")
    public_id = objection_id(await post_form(client, f"/publicity/{item}/objection",
                                             {"details": "罚款金额有误", "correction": "罚款三千元"}))
    change = {k: v for k, v in data.items() if k not in ("kind", "agency_case_number")}
    changed = await http.put(f"/api/v1/publications/{item}",
                             json={**change, "result": "罚款人民币三千元。", "amount_fen": 300_000})
    assert changed.status_code == 200, changed.text
    answer = await http.post(f"/api/v1/objections/{public_id}/answer", json={
        "outcome": "corrected", "text": "已更正罚款金额。", "corrected_version": 2})
    assert answer.json()["corrected_version"] == 2
    assert "已公示更正后的第2版" in (await client.get(f"/objections/{public_id}")).text
    assert (await client.get(f"/publicity/{item}/objection")).status_code == 200  # version 2
    await http.aclose()


async def test_an_item_masked_again_by_the_portal_still_concerns_its_persons(
        app: Starlette, client: httpx.AsyncClient, database: Database,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # GD art. 49 with FJ art. 8: ``portal publicity remask`` adds a version the agency did not
    # write; whom the item concerns does not change with it
    data = publication_body("榕市监罚〔2026〕408号", decided=china_date(utcnow()) - timedelta(days=1),
                            violation="当事人张三销售过期食品，证人欧阳明出具证言。",
                            party={"kind": "person", "name": "张三"})
    submission = submission_from_json(data, new=True)
    subjects = publication_subjects.of(app.state.settings.secret_key,
                                       [("party", "person", ZHANGSAN.id_number)])
    with monkeypatch.context() as old_masker:  # stored by a masker that missed 欧阳明
        old_masker.setattr(ingest, "mask_text", lambda text, **_: MaskResult(text, ()))
        async with transaction(database.sessions) as db:
            agency = await agencies.get_or_create_agency(db, AGENCY)
            item = await publications.publish(db, agency.id, "agency:test", submission,
                                              await load_calendar(db), subjects=subjects)
    async with transaction(database.sessions) as db:
        assert (await publications.remask(db)).remasked == 1
    await log_in(client, "zhangsan")
    form = await client.get(f"/publicity/{item.id}/objection")
    assert form.status_code == 200 and f"执法信息公示第{item.id}号（第2版）" in form.text
