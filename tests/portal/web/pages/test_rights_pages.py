"""The party's rights as pages (LAW.md "Rights before a decision"): each right is a form that
works without JavaScript, records the act with an event in the case's chain, and leads to a
confirmation page with a receipt sealed and timestamped by the portal; windows are enforced to
the minute (APL art. 64(1), 85), and only a party of the case may act (SECURITY.md 8.2.2).
Both databases."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from portal.cases import codes as case_codes
from portal.database import transaction
from portal.errors import Conflict
from portal.models import EvidenceEvent, SubmissionAttachment
from portal.models.cases import Case
from portal.services import cases, evidence
from tests.builders import deliver, sign_consent
from tests.conftest import Database
from tests.identities import COMPANY
from tests.portal.case_history import china
from tests.portal.cases.factories import (
    decide,
    notified_case,
    pdf,
    pdf_text,
    png,
    post_form,
    receipt_of,
    stored,
)
from tests.portal.web.login_flow import log_in

APL_45 = "行政机关不得因当事人陈述、申辩而给予更重的处罚。（《中华人民共和国行政处罚法》第四十五条）"


async def test_a_statement_with_attachments_gets_a_sealed_receipt(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # APL art. 44, 45: the party states and defends in the window, with evidence; the receipt
    # names the case and the submission, and the agency may not hold it against the party
    case = await notified_case(database, "榕市监处罚〔2026〕201号")
    await log_in(client, "zhangsan")
    form = await client.get(f"/cases/{case.code}/statement")
    assert form.status_code == 200 and APL_45 in form.text and "陈述、申辩期限：截止" in form.text
    evidence_files = [("attachments", ("发票.pdf", pdf(), "application/pdf")),
                      ("attachments", ("现场照片.png", png(), "image/png"))]
    answer = await post_form(client, f"/cases/{case.code}/statement",
                             {"text": "所售酸奶系赠品，未收取费用。"}, files=evidence_files)
    assert answer.status_code == 303
    public_id, receipt = await receipt_of(app, client, answer.headers["location"])
    text = pdf_text(receipt)
    for expected in (case_codes.display(case.code), public_id, case.agency_case_number, "陈述、申辩提交回执",
                     "所售酸奶系赠品", "附件1.pdf", "附件2.png", "不得因当事人陈述、申辩而给予更重的处罚"):
        assert expected in text, expected
    confirmation = (await client.get(answer.headers["location"])).text
    assert "陈述、申辩已提交" in confirmation and APL_45 in confirmation
    async with database.sessions() as db:
        kinds = [e.kind for e in (await db.execute(select(EvidenceEvent).where(
            EvidenceEvent.chain == cases.chain_of(case)).order_by(EvidenceEvent.seq))).scalars()]
        assert kinds[-2:] == ["submission", "submission_receipt_issued"]
        assert (await evidence.verify_chains(db)).ok
    [submission] = await stored(database)
    assert submission.window_kind == "statement" and submission.notice_seq == 2
    page = (await client.get(f"/cases/{case.code}")).text  # the case page lists it with its receipt
    assert f"/submissions/{public_id}/receipt" in page and "提交陈述、申辩" in page


FORMS: dict[str, tuple[str, dict[str, str], str]] = {
    "hearing-request": ("hearing_request", {"reason": "对违法所得的认定有异议", "agent_1": "李律师"},
                        "听证申请提交回执"),
    "recusal": ("recusal", {"target": "officer:{officer}", "reason": "该执法人员是竞争对手的亲属"},
                "回避申请提交回执"),
    "payment-plan": ("payment_plan", {"plan": "instalments", "instalments": "4",
                                      "reasons": "疫情后经营困难，账户余额不足"},
                     "暂缓或分期缴纳罚款申请提交回执"),
}


@pytest.mark.parametrize("slug", sorted(FORMS))
async def test_each_right_is_recorded_with_a_sealed_receipt(
        app: Starlette, client: httpx.AsyncClient, database: Database, slug: str) -> None:
    # APL art. 64(1) hearing request, art. 43/64(4) recusal, art. 66 deferred or instalment payment
    kind, fields, title = FORMS[slug]
    decided = slug == "payment-plan"  # only after a decision with a fine: windows long over
    case = await notified_case(database, "榕市监处罚〔2026〕220号",
                               informed=china(2026, 11, 2) if decided else None)
    async with transaction(database.sessions) as db:
        officer = (await cases.officers(db, case))[0]
        if decided:
            await decide(db, case)
    await log_in(client, "zhangsan")
    data = {key: value.format(officer=officer.id) for key, value in fields.items()}
    answer = await post_form(client, f"/cases/{case.code}/{slug}", data)
    assert answer.status_code == 303, answer.text
    public_id, receipt = await receipt_of(app, client, answer.headers["location"])
    text = pdf_text(receipt)
    assert title in text and public_id in text and case_codes.display(case.code) in text
    [submission] = await stored(database)
    assert submission.kind == kind and submission.public_id == public_id
    if slug == "recusal":
        assert submission.content["name"] == officer.name and "陈明" in text


async def test_hearing_request_on_the_last_day_at_23_59_is_accepted_and_at_00_00_refused(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # APL art. 64(1), 85: informed Monday 2 November 2026; 5 working days end Monday 9 November,
    # 24:00 China time. The app's clock is pinned for the test (portal.web.clock).
    case = await notified_case(database, "榕市监处罚〔2026〕230号", informed=china(2026, 11, 2, 10))
    await log_in(client, "zhangsan")
    app.state.clock = lambda: china(2026, 11, 10, 0, 0)
    refused = await post_form(client, f"/cases/{case.code}/hearing-request", {"reason": "要求听证"})
    assert refused.status_code == 409
    assert "申请听证的期限（告知后五个工作日内）已经结束" in refused.text  # the party's words
    assert "截止 2026年11月9日 24:00" in refused.text and "5个工作日，不含法定节假日" in refused.text
    assert await stored(database) == []
    app.state.clock = lambda: china(2026, 11, 9, 23, 59)
    accepted = await post_form(client, f"/cases/{case.code}/hearing-request", {"reason": "要求听证"})
    assert accepted.status_code == 303, accepted.text
    [submission] = await stored(database)
    assert submission.submitted_at == china(2026, 11, 9, 23, 59)
    assert submission.window_last_day is not None and submission.window_last_day.isoformat() == "2026-11-09"


async def test_hearing_request_is_refused_where_the_case_has_no_hearing_right(
        client: httpx.AsyncClient, database: Database) -> None:
    # APL art. 63: no hearing right, no hearing request (the statement stays open)
    case = await notified_case(database, "榕市监处罚〔2026〕231号", hearing_right=False)
    await log_in(client, "zhangsan")
    form = await client.get(f"/cases/{case.code}/hearing-request")
    assert form.status_code == 200 and "本案不适用听证程序" in form.text
    assert f'action="/cases/{case.code}/hearing-request"' not in form.text
    stated = await post_form(client, f"/cases/{case.code}/statement", {"text": "x"})
    assert stated.status_code == 303  # the statement is a right in every case
    answer = await post_form(client, f"/cases/{case.code}/hearing-request", {"reason": "要求听证"})
    assert answer.status_code == 409 and "本案不适用听证程序" in answer.text
    assert [s.kind for s in await stored(database)] == ["statement"]
    page = (await client.get(f"/cases/{case.code}")).text
    assert "/hearing-request" not in page


async def test_a_party_cannot_submit_on_another_partys_case(
        client: httpx.AsyncClient, database: Database) -> None:
    # SECURITY.md "Access control" (ASVS v5.0.0-8.2.2): 404, exactly like a case that does not exist
    mine = await notified_case(database, "榕市监处罚〔2026〕240号")
    company = await notified_case(database, "榕市监处罚〔2026〕241号", party=COMPANY.party)
    await log_in(client, "zhangsan")
    answer = await post_form(client, f"/cases/{mine.code}/statement", {"text": "我的陈述"})
    confirmation = answer.headers["location"]
    await log_in(client, "wangwu")
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/account")).text)
    assert token
    for slug in ("statement", "hearing-request", "recusal", "payment-plan", "waiver", "waiver/confirm"):
        for code in (mine.code, company.code, case_codes.new_code()):
            assert (await client.get(f"/cases/{code}/{slug}")).status_code in (404, 303)
            posted = await client.post(f"/cases/{code}/{slug}", data={
                "csrf_token": token.group(1), "text": "冒充", "confirm": "yes", "nonce": "x"})
            assert posted.status_code in (404, 303), (slug, posted.status_code)
            assert posted.status_code == 404 or posted.headers["location"].endswith("/waiver")
    assert (await client.get(confirmation)).status_code == 404
    assert (await client.get(confirmation + "/receipt")).status_code == 404
    await log_in(client, "zhangsan")
    assert (await client.get(f"/cases/{company.code}/statement")).status_code == 404
    assert len(await stored(database)) == 1


async def test_attachments_are_judged_by_content_with_limits_and_the_form_is_refilled(
        client: httpx.AsyncClient, database: Database) -> None:
    # SECURITY.md "Uploads" (ASVS v5.0.0-5.2.2, 5.3.2): a text file named .pdf is refused with
    # an error summary and the text kept; a PNG named .pdf is accepted as the PNG it is
    case = await notified_case(database, "榕市监处罚〔2026〕250号")
    await log_in(client, "zhangsan")
    path = f"/cases/{case.code}/statement"
    text_file = ("证据.pdf", b"plain text, not a PDF", "application/pdf")
    refused = await post_form(client, path, {"text": "我的意见<保留>"}, files=[("attachments", text_file)])
    assert refused.status_code == 422
    assert "提交的内容有以下问题" in refused.text and 'href="#field-attachments"' in refused.text
    assert "第1个附件不是PDF、JPG或PNG文件" in refused.text
    assert "我的意见&lt;保留&gt;</textarea>" in refused.text  # refilled, escaped
    too_many = await post_form(client, path, {"text": "x"},
                               files=[("attachments", (f"{n}.png", png(), "image/png")) for n in range(6)])
    assert too_many.status_code == 422 and "最多上传5个附件" in too_many.text
    empty = await post_form(client, path, {"text": ""})
    assert empty.status_code == 422 and "请填写陈述、申辩的意见" in empty.text
    assert await stored(database) == []
    accepted = await post_form(client, path, {"text": "照片见附件"},
                               files=[("attachments", ("照片.pdf", png(), "application/pdf"))])
    assert accepted.status_code == 303
    async with database.sessions() as db:
        [attachment] = (await db.execute(select(SubmissionAttachment))).scalars()
    assert attachment.media_type == "image/png"


async def test_the_waiver_is_confirmed_twice_and_then_the_agency_may_decide(
        client: httpx.AsyncClient, database: Database) -> None:
    # APL art. 62: a decision before the window ends needs an express waiver; the portal takes
    # it only after the checkbox and a second confirmation page
    case = await notified_case(database, "榕市监处罚〔2026〕260号")
    async with transaction(database.sessions) as db:
        with pytest.raises(Conflict) as refused:
            await decide(db, case)
        assert refused.value.code == "rights_window_open"
    await log_in(client, "zhangsan")
    unchecked = await post_form(client, f"/cases/{case.code}/waiver", {})
    assert unchecked.status_code == 422 and "请勾选确认后再继续" in unchecked.text
    skipped = await post_form(client, f"/cases/{case.code}/waiver/confirm",
                              {"nonce": "guessed", "confirmed_again": "yes"},
                              page=f"/cases/{case.code}/waiver")
    assert skipped.status_code == 303 and skipped.headers["location"].endswith("/waiver")
    first = await post_form(client, f"/cases/{case.code}/waiver", {"confirm": "yes"})
    assert first.status_code == 303 and first.headers["location"].endswith("/waiver/confirm")
    assert await stored(database) == []  # one confirmation is not enough
    second = await client.get(first.headers["location"])
    assert "再次确认" in second.text and "不能撤回" in second.text
    nonce = re.search(r'name="nonce" value="([^"]+)"', second.text)
    assert nonce
    done = await post_form(client, f"/cases/{case.code}/waiver/confirm",
                           {"nonce": nonce.group(1), "confirmed_again": "yes"})
    assert done.status_code == 303
    [waiver] = await stored(database)
    assert waiver.kind == "waiver" and waiver.content["confirmed"] == ["checkbox", "confirmation_page"]
    late = await post_form(client, f"/cases/{case.code}/statement", {"text": "再说一句"})
    assert late.status_code == 409 and "您已经声明放弃本次陈述、申辩" in late.text
    async with transaction(database.sessions) as db:
        reloaded = await db.get(Case, case.id)
        assert reloaded is not None
        await decide(db, reloaded)  # allowed now


async def test_an_extension_shows_both_dates_on_the_form(client: httpx.AsyncClient,
                                                         database: Database) -> None:
    # window_extended: the party sees the legal last day and the agency's new one
    case = await notified_case(database, "榕市监处罚〔2026〕270号", informed=china(2026, 11, 20, 10))
    async with transaction(database.sessions) as db:
        await cases.add_stage_event(db, case, "window_extended", {
            "deadline": "statement", "new_last_day": "2026-12-11", "reason": "当事人申请收集证据"},
            "agency:test")
    await log_in(client, "zhangsan")
    form = (await client.get(f"/cases/{case.code}/statement")).text
    assert '法定期限截止 <time datetime="2026-11-27">2026年11月27日</time> 24:00' in form
    assert ('执法机关已延长至 <time datetime="2026-12-11">2026年12月11日</time> 24:00'
            "（理由：当事人申请收集证据）") in form


async def test_forms_need_a_login_and_a_csrf_token(client: httpx.AsyncClient, database: Database) -> None:
    # SECURITY.md "Browser side" (ASVS v5.0.0-3.5.1)
    case = await notified_case(database, "榕市监处罚〔2026〕280号")
    assert (await client.get(f"/cases/{case.code}/statement")).headers["location"] == "/login"
    await log_in(client, "zhangsan")
    forged = await client.post(f"/cases/{case.code}/statement", data={"text": "x"})
    assert forged.status_code == 403
    assert await stored(database) == []


async def test_the_timeline_merges_deliveries_and_submissions(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # the case page: documents served and submissions join the case's events in time order
    case = await notified_case(database, "榕市监处罚〔2026〕290号")
    async with database.sessions() as db:
        party = (await cases.parties(db, case))[0]
    await sign_consent(database, party.id)
    await deliver(database, app.state.blobs, party.id, case.id)
    await log_in(client, "zhangsan")
    await post_form(client, f"/cases/{case.code}/statement", {"text": "意见"})
    page = (await client.get(f"/cases/{case.code}")).text
    timeline = page[page.index('id="timeline"'):]
    order = [label for label in ("行政处罚事先告知", "送达行政处罚事先告知书", "提交陈述、申辩")
             if label in timeline]
    assert order == ["行政处罚事先告知", "送达行政处罚事先告知书", "提交陈述、申辩"]
    assert timeline.index("送达行政处罚事先告知书") < timeline.index("提交陈述、申辩")
    deadlines = page[page.index('id="deadlines"'):page.index('id="rights"')]
    assert "送达于" in deadlines  # the window runs from the portal's service time
