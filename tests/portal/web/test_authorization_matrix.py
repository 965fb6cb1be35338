"""The authorisation matrix (SECURITY.md "Access control"; ASVS v5.0.0-8.2.2, 8.3.1, 8.4.1):
every route that names an object in its path is walked by party A (张三), party B (an
organisation, through its agent 李四), a delegate (王五, acting for A with ``mailbox`` scope),
agency A, agency B and an anonymous visitor, on an object of A and one of B, and each answer
is asserted: the owner gets it, a delegate what the scope allows, everyone else the 404 of an
id that does not exist; a page sends the anonymous (and an agency's bearer token, which pages
do not read) to the login page, and the API answers people without a token 401.

The table below must classify every route of the app that has a path parameter: a new route
fails ``test_every_route_with_a_path_parameter_is_classified`` until someone decides who may
use it and adds it here. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from notifications import InboxNotice
from portal.cases.rights import SubmissionKind
from portal.database import transaction, utcnow
from portal.evidence_hash import instant_text
from portal.identifiers import id_number_check_char
from portal.legal_calendar import china_date
from portal.models import Representation
from portal.models.cases import Case
from portal.services import agencies, api_tokens, cases, consent, fines, notices, objections, submissions
from portal.services.calendar import load_calendar
from portal.services.notification_preferences import party_reference
from portal.workers import payments as payment_jobs
from portal.workers import submissions as submission_jobs
from portal.workers.eservice import JOBS, EserviceDeps
from tests.builders import RENDERER, BuiltCase, credit_code, deliver, register_case
from tests.conftest import Database, csrf_from
from tests.identities import COMPANY, ZHANGSAN
from tests.portal import verify_samples
from tests.portal.cases.factories import attached
from tests.portal.publicity.factories import body as publication_body
from tests.portal.publicity.factories import change_of
from tests.portal.web.delegation_flow import act_for, browser, granted_id, person_id
from tests.portal.web.login_flow import log_in
from tests.portal.web.pages.payment_factories import payment_deps, receipt_links
from tests.signing.sample_pdfs import make_pdf

ACTORS = ("party_a", "party_b", "delegate", "agency_a", "agency_b", "anonymous")

# What each relation to the object gets. "owner"/"delegate"/"stranger" are parties;
# agencies on pages and parties on the API are simply not signed in there.
_ANONYMOUS_PAGE = {"anonymous": 303, "agency_owner": 303, "agency_other": 303}
PARTY_READ = {"owner": 200, "delegate": 200, "stranger": 404, **_ANONYMOUS_PAGE}
PARTY_ACT = {"owner": 303, "delegate": 404, "stranger": 404, **_ANONYMOUS_PAGE}
PARTY_READ_MARK = {"owner": 303, "delegate": 303, "stranger": 404, **_ANONYMOUS_PAGE}
PARTY_FULL_READ = {"owner": 200, "delegate": 404, "stranger": 404, **_ANONYMOUS_PAGE}
PUBLIC = dict.fromkeys(("owner", "delegate", "stranger", "anonymous", "agency_owner", "agency_other"), 200)
_NO_TOKEN = {"owner": 401, "delegate": 401, "stranger": 401, "anonymous": 401}
AGENCY_READ = {"agency_owner": 200, "agency_other": 404, **_NO_TOKEN}
AGENCY_EMPTY_BODY = {"agency_owner": 422, "agency_other": 404, **_NO_TOKEN}
AGENCY_CREATE = {"agency_owner": 201, "agency_other": 404, **_NO_TOKEN}
AGENCY_REFUND = {"agency_owner": 422, "agency_other": 404, **_NO_TOKEN}  # owner: unknown_payment
AGENCY_DAY = {"agency_owner": 404, "agency_other": 404, **_NO_TOKEN}
# an act whose empty form the owner gets back with an error summary
PARTY_ACT_INVALID = {"owner": 422, "delegate": 404, "stranger": 404, **_ANONYMOUS_PAGE}
# a public item: whom it concerns may object to it; to anyone else it says why not (403)
CONCERNED_READ = {"owner": 200, "delegate": 404, "stranger": 403, **_ANONYMOUS_PAGE}
SIGNED_ONCE = {"owner": 409, "delegate": 404, "stranger": 404, **_ANONYMOUS_PAGE}
CONCERNED_ACT_INVALID = {"owner": 422, "delegate": 404, "stranger": 403, **_ANONYMOUS_PAGE}


@dataclass(frozen=True)
class Rule:
    param: str
    """The kind of object the path parameter names (a key of ``World.objects``)."""
    expect: dict[str, int]
    body: str = "form"
    """What an unsafe request sends: the page's CSRF form, or an API body by name."""


ROUTES: dict[tuple[str, str], Rule | None] = {
    ("GET", "/mailbox/{delivery_id}"): Rule("delivery", PARTY_READ),
    ("POST", "/mailbox/{delivery_id}/view"): Rule("delivery", PARTY_READ_MARK),  # 303 to view.pdf
    ("GET", "/mailbox/{delivery_id}/view.pdf"): Rule("delivery", PARTY_READ),
    ("POST", "/mailbox/{delivery_id}/document"): Rule("delivery", PARTY_READ),
    ("GET", "/mailbox/{delivery_id}/receipt"): Rule("delivery", PARTY_READ),
    ("POST", "/mailbox/{delivery_id}/paper-copy"): Rule("delivery", PARTY_ACT),
    ("GET", "/consent/done/{consent_id}"): Rule("consent", PARTY_FULL_READ),
    ("GET", "/consent/{consent_id}/document.pdf"): Rule("consent", PARTY_FULL_READ),
    ("POST", "/notices/{notice_id:int}/read"): Rule("notice", PARTY_READ_MARK),
    ("POST", "/notices/{notice_id:int}/open"): Rule("notice", PARTY_READ_MARK),  # 303 to its page
    ("GET", "/account/delegations/{delegation_id}"): Rule("delegation", PARTY_FULL_READ),
    ("GET", "/account/delegations/{delegation_id}/revoke"): Rule("delegation", PARTY_FULL_READ),
    # the power of attorney (授权委托书, APL art. 64(3)), signed in build_world: once only
    ("GET", "/account/delegations/{delegation_id}/authorisation.pdf"): Rule("delegation", PARTY_FULL_READ),
    ("POST", "/account/delegations/{delegation_id}/authorisation"): Rule("delegation", SIGNED_ONCE),
    ("GET", "/api/v1/cases/{case_code}/representatives/{representation_id}/authorisation.pdf"):
        Rule("representative", AGENCY_READ),
    ("POST", "/account/delegations/{delegation_id}/revoke"): Rule("delegation", PARTY_ACT),
    ("GET", "/c/{code}"): Rule("case", PUBLIC),
    ("GET", "/cases/{code}"): Rule("case", PARTY_READ),
    # the rights (pages.rights): acting needs full scope; reading what was filed, mailbox scope
    **{("GET", f"/cases/{{code}}/{slug}"): Rule("case", PARTY_FULL_READ)
       for slug in ("statement", "hearing-request", "recusal", "payment-plan", "waiver")},
    # (an empty form lacks the form's one-time token too: the owner gets the form again, 422)
    **{("POST", f"/cases/{{code}}/{slug}"): Rule("case", PARTY_ACT_INVALID)
       for slug in ("statement", "hearing-request", "recusal", "payment-plan", "waiver")},
    ("GET", "/cases/{code}/waiver/confirm"): Rule("case", PARTY_ACT),  # owner: back to step 1
    ("POST", "/cases/{code}/waiver/confirm"): Rule("case", PARTY_ACT),
    # objections to data (pages.objections): filing needs full scope, reading mailbox scope
    ("GET", "/cases/{code}/objection"): Rule("case", PARTY_FULL_READ),
    ("POST", "/cases/{code}/objection"): Rule("case", PARTY_ACT_INVALID),
    ("GET", "/mailbox/{delivery_id}/objection"): Rule("delivery", PARTY_FULL_READ),
    ("POST", "/mailbox/{delivery_id}/objection"): Rule("delivery", PARTY_ACT_INVALID),
    ("GET", "/publicity/{publication_id:int}/objection"): Rule("publication", CONCERNED_READ),
    ("POST", "/publicity/{publication_id:int}/objection"): Rule("publication", CONCERNED_ACT_INVALID),
    ("GET", "/objections/{submission_id}"): Rule("objection", PARTY_READ),
    ("GET", "/objections/{submission_id}/receipt"): Rule("objection", PARTY_READ),
    ("POST", "/api/v1/objections/{submission_id}/answer"):
        Rule("objection", AGENCY_EMPTY_BODY, "empty_json"),
    ("GET", "/cases/{code}/submissions/{submission_id}"): Rule("submission", PARTY_READ),
    ("GET", "/cases/{code}/submissions/{submission_id}/receipt"): Rule("submission", PARTY_READ),
    ("GET", "/api/v1/submissions/{submission_id}"): Rule("submission", AGENCY_READ),
    ("GET", "/api/v1/submissions/{submission_id}/attachments/{position}"):
        Rule("submission", AGENCY_READ),
    ("GET", "/api/v1/submissions/{submission_id}/receipt"): Rule("submission", AGENCY_READ),
    ("POST", "/api/v1/submissions/{submission_id}/acknowledgement"):
        Rule("submission", AGENCY_READ, "empty_json"),
    # a capability link: 128 random bits; whoever holds it sees the report, by design
    ("GET", "/verify/reports/{report_id}"): Rule("report", PUBLIC),
    ("GET", "/verify/reports/{report_id}/json"): Rule("report", PUBLIC),
    ("GET", "/verify/reports/{report_id}/pdf"): Rule("report", PUBLIC),
    ("GET", "/verify/reports/{report_id}/seals/{number:int}.png"): Rule("report_seal", PUBLIC),
    ("GET", "/publicity/{publication_id:int}"): Rule("publication", PUBLIC),
    ("GET", "/api/v1/cases/{case_code}"): Rule("case", AGENCY_READ),
    ("POST", "/api/v1/cases/{case_code}/events"): Rule("case", AGENCY_EMPTY_BODY, "empty_json"),
    ("GET", "/api/v1/cases/{case_code}/qr.png"): Rule("case", AGENCY_READ),
    ("GET", "/api/v1/cases/{case_code}/qr.svg"): Rule("case", AGENCY_READ),
    ("POST", "/api/v1/cases/{case_code}/deliveries"): Rule("case", AGENCY_EMPTY_BODY, "empty_form"),
    ("GET", "/api/v1/deliveries/{delivery_id}"): Rule("delivery", AGENCY_READ),
    ("GET", "/api/v1/deliveries/{delivery_id}/receipt"): Rule("delivery", AGENCY_READ),
    ("GET", "/api/v1/agency/clients/{client_id}"): Rule("client", AGENCY_READ),
    ("GET", "/api/v1/publications/{publication_id}"): Rule("publication", AGENCY_READ),
    ("PUT", "/api/v1/publications/{publication_id}"): Rule("publication", AGENCY_READ, "change"),
    ("POST", "/api/v1/publications/{publication_id}/withdrawal"):
        Rule("publication", AGENCY_CREATE, "withdrawal"),
    ("GET", "/fines/{fine_id}"): Rule("fine", PARTY_READ),
    ("GET", "/fines/{fine_id}/return"): Rule("fine", PARTY_READ),
    ("POST", "/fines/{fine_id}/pay"): Rule("fine", PARTY_ACT),  # owner: 303 to the platform
    ("GET", "/fines/{fine_id}/receipts/{code}/{number}"): Rule("receipt", PARTY_READ),
    ("GET", "/fines/{fine_id}/receipts/{code}/{number}/view"): Rule("receipt", PARTY_READ),
    ("GET", "/fines/{fine_id}/receipts/{code}/{number}/ofd"): Rule("receipt", PARTY_READ),
    ("GET", "/api/v1/fines/{fine_id}"): Rule("fine", AGENCY_READ),
    ("POST", "/api/v1/fines/{fine_id}/refunds"): Rule("fine", AGENCY_REFUND, "refund"),
    # a day is nobody's object: each agency reads its own part of the day's run (none yet here)
    ("GET", "/api/v1/reconciliations/{day}"): Rule("day", AGENCY_DAY),
    # authenticated by the platform's signature over the body, not by a party or an agency;
    # tests/portal/web/api/test_payment_callbacks.py covers forged, replayed and foreign-platform
    # callbacks
    ("POST", "/api/v1/payments/callbacks/{platform}"): None,
    ("*", "/static"): None,  # files of the portal itself: no object of anybody's
    # the sandbox payment platform: the stand-in for an outside system, its own small app; its
    # pay page is the payer's alone (tests/portal/web/pages/test_sandbox_pages.py)
    ("*", "/sandbox-pay"): None,
}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str, bool]]:
    """(method, path, has a path parameter) for every endpoint, through mounts."""
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            yield from walk(route.routes, prefix + route.path)
        elif isinstance(route, Mount):
            yield "*", prefix + route.path, True  # an app mounted whole: {path} below it
        elif isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                yield method, prefix + route.path, bool(route.param_convertors)


def test_every_route_with_a_path_parameter_is_classified(app: Starlette) -> None:
    found = {(method, path) for method, path, has_param in walk(app.routes) if has_param}
    assert not found - ROUTES.keys(), (
        "decide who may use these routes and add them to ROUTES (an object kind built in "
        f"build_world, and the answer for each relation): {sorted(found - ROUTES.keys())}")
    assert not ROUTES.keys() - found, f"routes gone, drop them: {sorted(ROUTES.keys() - found)}"


@dataclass
class World:
    clients: dict[str, httpx.AsyncClient]
    objects: dict[str, dict[str, str | dict[str, str]]]
    """kind → owner ("A" or "B") → the id in the path (or the values of several path
    parameters); capabilities and A's paid receipt only under "A"."""
    bodies: dict[str, dict[str, Any]]


def relation(actor: str, owner: str) -> str:
    if actor == "anonymous":
        return "anonymous"
    if actor.startswith("agency_"):
        return "agency_owner" if actor == f"agency_{owner.lower()}" else "agency_other"
    if actor == "delegate":
        return "delegate" if owner == "A" else "stranger"
    return "owner" if actor == f"party_{owner.lower()}" else "stranger"


def valid_id_number(first17: str) -> str:
    return first17 + id_number_check_char(first17)


async def _agency_client(database: Database, app: Starlette, name: str) -> tuple[int, str, httpx.AsyncClient]:
    value = api_tokens.new_token_value()
    async with transaction(database.sessions) as db:
        new = await agencies.create_client(db, name, credit_code(name))
        await api_tokens.store_token(db, value, client_id=new.client_id, agency_id=new.agency_id,
                                     scope="agency", lifetime=timedelta(hours=1))
    http = browser(app)
    http.headers["authorization"] = f"Bearer {value}"
    return new.agency_id, new.client_id, http


async def _signed(database: Database, app: Starlette, party_id: int) -> int:
    """A consent whose signed document is really in the blob store."""
    digest = await app.state.blobs.put(b"%PDF-1.7 consent of party " + str(party_id).encode())
    async with transaction(database.sessions) as db:
        recorded = await consent.record_consent(
            db, party_id=party_id, signer_person_id=party_id, scope="all", agency_ids=[],
            email_copy=None, method="remote_signature", document_sha256=digest,
            actor=f"party:{party_id}", renderer=RENDERER)
    return recorded.id


async def _fine(database: Database, agency_id: int, case_code: str, party_key: str,
                number: str) -> str:
    """A payable fine of a decision the agency says it served three days ago."""
    async with transaction(database.sessions) as db:
        fine, _ = await fines.create_fine(db, agency_id, fines.NewFine(
            decision_number=number, amount_fen=20_000, collecting_account="福建省财政厅非税收入汇缴结算户",
            surcharge_applies=True, served_on=china_date(utcnow()) - timedelta(days=3),
            case_code=case_code, party_key=party_key), actor=f"agency:{agency_id}")
    return fine.public_id


async def _paid_receipt(app: Starlette, database: Database, owner: httpx.AsyncClient,
                        fine_id: str) -> dict[str, str]:
    """The owner pays on the sandbox platform; the path parameters of the e-receipt issued."""
    token = await csrf_from(owner, f"/fines/{fine_id}")
    pay = await owner.post(f"/fines/{fine_id}/pay", data={"csrf_token": token})
    assert pay.status_code == 303, pay.text
    sandbox_token = await csrf_from(owner, pay.headers["location"])  # the payer's own pay page
    assert (await owner.post(pay.headers["location"],
                             data={"action": "pay", "csrf_token": sandbox_token})).status_code == 303
    await app.state.payments.sandbox.drain()
    await payment_jobs.JOBS.drain(payment_deps(app, database))
    [link] = receipt_links((await owner.get(f"/fines/{fine_id}/return")).text)
    code, number = link.rsplit("/", 2)[1:]
    return {"fine_id": fine_id, "code": code, "number": number}


async def _notice(database: Database, party_id: int) -> str:
    """A notice in the party's bell, stored as the inbox channel stores one."""
    async with transaction(database.sessions) as db:
        stored = await notices.store_notice(db, InboxNotice(
            party_reference(party_id), "文书已送达", "请登录查看。", 1, f"matrix:{party_id}"))
    return stored.removeprefix("notice:")  # the store answers the channel's reference


async def _published(http: httpx.AsyncClient, number: str,
                     party: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """An item the agency publishes about ``party`` (whom it concerns, by identifier)."""
    data = publication_body(number, decided=china_date(utcnow()) - timedelta(days=1), party=party)
    response = await http.post("/api/v1/publications", json=data)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), data


async def _statement(database: Database, app: Starlette, built: BuiltCase) -> str:
    """A statement with one attachment filed by the case's party, its receipt issued."""
    async with transaction(database.sessions) as db:
        case = await db.get(Case, built.id)
        assert case is not None
        await cases.add_stage_event(db, case, "penalty_notice", {
            "proposed_penalty": "罚款人民币二百元", "facts": "未按规定办理登记",
            "legal_basis": "《条例》第十条", "occurred_at": instant_text(utcnow() - timedelta(minutes=2)),
            "informed_at": instant_text(utcnow() - timedelta(minutes=1))}, "agency:matrix")
        [party] = await cases.parties(db, case)
        filed = await submissions.submit(
            db, app.state.blobs, case=case, party_id=party.id, person_id=party.id,
            actor=f"party:{party.id}", calendar=await load_calendar(db),
            new=submissions.NewSubmission(SubmissionKind.STATEMENT, {"text": "有异议"},
                                          await attached([make_pdf()])))
    await submission_jobs.JOBS.drain(submission_jobs.SubmissionDeps(
        database.sessions, app.state.notary, app.state.blobs, app.state.settings.secret_key,
        development=True))
    return filed.public_id


async def _objection(database: Database, app: Starlette, built: BuiltCase) -> str:
    """An objection to the case's record by its party, its receipt issued."""
    async with transaction(database.sessions) as db:
        case = await db.get(Case, built.id)
        assert case is not None
        [party] = await cases.parties(db, case)
        filed = await objections.on_case(db, app.state.blobs, case, objections.Filed(
            party.id, party.id, f"party:{party.id}", {"details": "案由记载有误", "correction": ""}))
    await submission_jobs.JOBS.drain(submission_jobs.SubmissionDeps(
        database.sessions, app.state.notary, app.state.blobs, app.state.settings.secret_key))
    return filed.public_id


async def build_world(database: Database, app: Starlette) -> World:
    clients = {actor: browser(app) for actor in ("party_a", "party_b", "delegate", "anonymous")}
    await log_in(clients["party_a"], "zhangsan")
    await log_in(clients["party_b"], "lisi")  # acts for 福州示例科技有限公司
    await log_in(clients["delegate"], "wangwu")
    agency_a, client_a, clients["agency_a"] = await _agency_client(database, app, "福州市市场监督管理局")
    agency_b, client_b, clients["agency_b"] = await _agency_client(database, app, "厦门市交通运输局")
    party_a, party_b = await person_id(database, "张三"), await person_id(database, "福州示例科技有限公司")
    case_a = await register_case(database, agency_a, "榕市监处罚〔2026〕11号", ZHANGSAN)
    case_b = await register_case(database, agency_b, "厦交运罚〔2026〕12号", COMPANY)
    consent_a, consent_b = await _signed(database, app, party_a), await _signed(database, app, party_b)
    delivery_a = await deliver(database, app.state.blobs, party_a, case_a.id, title="榕市监告〔2026〕11号")
    delivery_b = await deliver(database, app.state.blobs, party_b, case_b.id, title="厦交运告〔2026〕12号")
    await JOBS.run_due(EserviceDeps(database.sessions, app.state.notary, app.state.blobs))
    submission_a = await _statement(database, app, case_a)
    submission_b = await _statement(database, app, case_b)
    objection_a = await _objection(database, app, case_a)
    objection_b = await _objection(database, app, case_b)
    # A's delegate (the "delegate" actor) and, as the objects, A's and B's delegations to 赵六
    await granted_id(clients["party_a"], "mailbox")
    zhao = {"delegate_name": "赵六", "delegate_id_number": valid_id_number("11010119900307123")}
    delegation_a = await granted_id(clients["party_a"], "full", zhao)
    delegation_b = await granted_id(clients["party_b"], "full", zhao)
    for owner, delegation in (("party_a", delegation_a), ("party_b", delegation_b)):
        token = await csrf_from(clients[owner], f"/account/delegations/{delegation}")
        signed = await clients[owner].post(f"/account/delegations/{delegation}/authorisation",
                                           data={"csrf_token": token})
        assert signed.status_code == 303, signed.text
    await act_for(clients["delegate"], party_a)
    publication_a, body_a = await _published(clients["agency_a"], "榕市监罚〔2026〕21号",
                                             ZHANGSAN.api)
    publication_b, body_b = await _published(clients["agency_b"], "厦交运罚〔2026〕22号", COMPANY.api)
    fine_a = await _fine(database, agency_a, case_a.code, ZHANGSAN.id_number, "榕市监罚〔2026〕31号")
    fine_b = await _fine(database, agency_b, case_b.code, COMPANY.credit_code, "厦交运罚〔2026〕32号")
    paid_a = await _fine(database, agency_a, case_a.code, ZHANGSAN.id_number, "榕市监罚〔2026〕33号")
    receipt_a = await _paid_receipt(app, database, clients["party_a"], paid_a)
    token = await csrf_from(clients["anonymous"], "/verify")
    uploaded = await clients["anonymous"].post("/verify", data={"csrf_token": token},
                                               files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert uploaded.status_code == 303, uploaded.text
    report = uploaded.headers["location"].rsplit("/", 1)[1]
    sealed = await clients["anonymous"].post("/verify", data={"csrf_token": token}, files={
        "file": ("a.ofd", verify_samples.sealed_ofd(app.state.settings.data_dir), "application/ofd")})
    assert sealed.status_code == 303, sealed.text
    ofd_report = sealed.headers["location"].rsplit("/", 1)[1]
    return World(clients, {
        "delivery": {"A": delivery_a.public_id, "B": delivery_b.public_id},
        "consent": {"A": str(consent_a), "B": str(consent_b)},
        "delegation": {"A": str(delegation_a), "B": str(delegation_b)},
        "representative": {"A": {"case_code": case_a.code, "representation_id": str(delegation_a)},
                           "B": {"case_code": case_b.code, "representation_id": str(delegation_b)}},
        "case": {"A": case_a.code, "B": case_b.code},
        "submission": {"A": {"code": case_a.code, "submission_id": submission_a, "position": "1"},
                       "B": {"code": case_b.code, "submission_id": submission_b, "position": "1"}},
        "objection": {"A": objection_a, "B": objection_b},
        "client": {"A": client_a, "B": client_b},
        "publication": {"A": publication_a, "B": publication_b},
        "report": {"A": report},
        "report_seal": {"A": {"report_id": ofd_report, "number:int": "1"}},
        "fine": {"A": fine_a, "B": fine_b},
        "receipt": {"A": receipt_a},
        "day": {"A": china_date(utcnow()).isoformat()},
        "notice": {"A": await _notice(database, party_a), "B": await _notice(database, party_b)},
    }, {"change": {"A": change_of(body_a), "B": change_of(body_b)}})


async def _request(world: World, actor: str, method: str, path: str, rule: Rule,
                   owner: str) -> httpx.Response:
    http = world.clients[actor]
    if method == "GET":
        return await http.get(path)
    if rule.body == "form":
        return await http.request(method, path, data={"csrf_token": await csrf_from(http, "/")})
    if rule.body == "empty_json":
        return await http.request(method, path, json={})
    if rule.body == "empty_form":
        return await http.request(method, path, files={"metadata": (None, "{}")})
    if rule.body == "refund":  # well-formed: the answer turns on whose fine it is
        return await http.request(method, path, json={
            "platform_serial": "SB0000", "refund_serial": "RF0000", "reason": "重复缴款"})
    if rule.body == "change":
        return await http.request(method, path, json=world.bodies["change"][owner])
    assert rule.body == "withdrawal"
    return await http.request(method, path, json={
        "ground": "decision_revoked", "reason": "处罚决定已被依法撤销",
        "occurred_on": china_date(utcnow()).isoformat()})


def _path(template: str, value: str | dict[str, str]) -> str:
    if isinstance(value, str):
        name = template.split("{", 1)[1].split("}", 1)[0]
        return template.replace("{" + name + "}", value)
    for name, part in value.items():
        template = template.replace("{" + name + "}", part)
    return template


async def test_who_gets_what(database: Database, app: Starlette) -> None:
    world = await build_world(database, app)
    # reads first, so that acts (revoking, withdrawing) do not change what the reads find;
    # among the acts, agencies and strangers try before the owner does
    order = sorted((key for key, rule in ROUTES.items() if rule is not None),
                   key=lambda key: key[0] != "GET")
    wrong: list[str] = []
    try:
        for method, template in order:
            rule = ROUTES[(method, template)]
            assert rule is not None
            for owner, value in world.objects[rule.param].items():
                actors = sorted(ACTORS, key=lambda actor: relation(actor, owner) == "agency_owner"
                                or relation(actor, owner) == "owner")
                for actor in actors:
                    path = _path(template, value)
                    response = await _request(world, actor, method, path, rule, owner)
                    expected = rule.expect[relation(actor, owner)]
                    if response.status_code != expected:
                        wrong.append(f"{method} {template} on {owner}'s object as {actor}: "
                                     f"{response.status_code}, expected {expected}")
                    if expected == 303 and relation(actor, owner) not in ("owner", "delegate"):
                        assert response.headers["location"] == "/login", (method, path, actor)
                    if expected == 404 and not path.startswith("/api/"):
                        assert "页面不存在" in response.text  # the same page as a missing id
    finally:
        for http in world.clients.values():
            await http.aclose()
    assert not wrong, "\n".join(wrong)


async def test_a_revoked_delegate_is_a_stranger_on_every_party_route(database: Database,
                                                                     app: Starlette) -> None:
    """After revocation the delegate's row of the matrix is the stranger's, without a new login
    or a switch: each route re-checks the representation."""
    world = await build_world(database, app)
    try:
        owner = world.clients["party_a"]
        wangwu = await person_id(database, "王五")
        async with database.sessions() as db:
            delegation = (await db.execute(select(Representation.id).where(
                Representation.agent_id == wangwu))).scalar_one()
        token = await csrf_from(owner, f"/account/delegations/{delegation}")
        revoked = await owner.post(f"/account/delegations/{delegation}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 303
        for (method, template), rule in ROUTES.items():
            if rule is None or rule.expect.get("delegate") != 200 or rule.expect is PUBLIC:
                continue
            path = _path(template, world.objects[rule.param]["A"])
            response = await _request(world, "delegate", method, path, rule, "A")
            assert response.status_code == 404, (method, path, response.status_code)
    finally:
        for http in world.clients.values():
            await http.aclose()
