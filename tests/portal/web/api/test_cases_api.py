"""The case API: registration with checked identifiers, per-agency isolation, stage order,
and the case's QR code. Every response is also checked against the OpenAPI document by the
``api`` client; both databases."""

from __future__ import annotations

import copy
import io
from datetime import datetime, timedelta

import httpx
from PIL import Image
from sqlalchemy import select
from starlette.applications import Starlette

from portal.cases import codes as case_codes
from portal.legal_calendar import CHINA_TZ as CHINA
from portal.models.cases import Case
from portal.services import cases
from portal.services.agencies import NewClient
from tests.builders import deliver, sign_consent
from tests.conftest import Database
from tests.identities import COMPANY, ZHANGSAN
from tests.portal.web.api.conftest import PUBLIC_URL, bearer, fetch_token
from tests.portal.web.api.factories import NEW_CASE, NOTICE, OFFICERS, register


async def test_registration_returns_code_display_form_and_qr_url(api: httpx.AsyncClient,
                                                                 agency_a: NewClient) -> None:
    token = await fetch_token(api, agency_a)
    response = await register(api, token)
    assert response.status_code == 201, response.text
    body = response.json()
    code = body["code"]
    assert case_codes.normalise(code) == code  # FJ art. 29: a self-checking case code
    assert body["display_code"] == case_codes.display(code)
    assert body["qr_url"].startswith(f"{PUBLIC_URL}/c/{code}?t=")
    assert response.headers["location"] == f"/api/v1/cases/{code}"
    case = (await api.get(f"/api/v1/cases/{body['display_code']}", headers=bearer(token))).json()
    assert case["stage"] == "registered" and case["matter"] == NEW_CASE["matter"]
    assert case["parties"] == [ZHANGSAN.api, COMPANY.api] and case["officers"] == OFFICERS
    assert [event["kind"] for event in case["events"]] == ["registered"]


async def test_bad_identifiers_and_missing_fields_are_named_with_stable_codes(
        api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # GB 11643 / GB 32100 check characters: a typo must not attach a case to a stranger
    body = copy.deepcopy(NEW_CASE)
    body["parties"][0]["id_number"] = "350102198503121231"  # check character should be X
    body["parties"][1]["credit_code"] = "91350100MA2XY12345"  # check character should be 6
    del body["matter"]
    body["officers"] = OFFICERS[:1]  # APL art. 42: at least two officers
    body["parties"].append({"kind": "robot", "name": "R2"})
    response = await register(api, await fetch_token(api, agency_a), body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"] == {
        "matter": "required",
        "officers": "too_few_officers",
        "parties[0].id_number": "invalid_id_number",
        "parties[1].credit_code": "invalid_credit_code",
        "parties[2].kind": "invalid_choice",
    }


async def test_shape_errors_are_named_too(api: httpx.AsyncClient, agency_a: NewClient) -> None:
    token = await fetch_token(api, agency_a)
    body = {**NEW_CASE, "hearing_right": "yes", "parties": [{"kind": "person", "name": "张三"}],
            "extra": 1}
    problem = (await register(api, token, body)).json()
    assert problem["errors"] == {"extra": "unknown_field", "hearing_right": "invalid_type",
                                 "parties[0].id_number": "required"}
    not_json = await api.post("/api/v1/cases", content=b"{", headers={
        **bearer(token), "content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["errors"] == {"body": "invalid_json"}
    form = await api.post("/api/v1/cases", data={"a": "b"}, headers=bearer(token))
    assert form.status_code == 415


async def test_same_agency_case_number_twice_is_409_case_exists(api: httpx.AsyncClient,
                                                                agency_a: NewClient,
                                                                agency_b: NewClient) -> None:
    token = await fetch_token(api, agency_a)
    assert (await register(api, token)).status_code == 201
    again = await register(api, token)
    assert again.status_code == 409 and again.json()["code"] == "case_exists"
    # another agency may use the same number for its own case
    assert (await register(api, await fetch_token(api, agency_b))).status_code == 201


async def test_another_agency_cannot_read_or_touch_the_case(api: httpx.AsyncClient,
                                                            agency_a: NewClient,
                                                            agency_b: NewClient) -> None:
    # SECURITY.md "Access control" (ASVS v5.0.0-8.4.1): 404, exactly like a missing case
    code = (await register(api, await fetch_token(api, agency_a))).json()["code"]
    other = bearer(await fetch_token(api, agency_b))
    missing = case_codes.new_code()
    for path in (f"/api/v1/cases/{code}", f"/api/v1/cases/{code}/qr.png",
                 f"/api/v1/cases/{code}/qr.svg"):
        foreign = await api.get(path, headers=other)
        absent = await api.get(path.replace(code, missing), headers=other)
        assert foreign.status_code == absent.status_code == 404
        assert foreign.json()["code"] == absent.json()["code"] == "not_found"
    event = await api.post(f"/api/v1/cases/{code}/events", json=NOTICE, headers=other)
    assert event.status_code == 404


async def test_stage_events_follow_the_order_rules(api: httpx.AsyncClient,
                                                   agency_a: NewClient) -> None:
    # APL art. 44, 62: no decision without the prior notice; nothing after closing
    token = bearer(await fetch_token(api, agency_a))
    code = (await register(api, token["Authorization"].split()[1])).json()["code"]
    events = f"/api/v1/cases/{code}/events"
    decision = {"kind": "decided", "data": {"decision_number": "1号", "penalty": "罚款",
                                            "fine_fen": 100}}
    early = await api.post(events, json=decision, headers=token)
    assert early.status_code == 409 and early.json()["code"] == "notice_required"
    assert "第四十四条" in early.json()["title"]
    filed = await api.post(events, json={"kind": "filed"}, headers=token)
    assert filed.status_code == 201 and filed.json()["seq"] == 2
    notice = await api.post(events, json=NOTICE, headers=token)
    assert notice.status_code == 201 and notice.json()["data"]["proposed_fine_fen"] == 1_000_000
    not_informed = await api.post(events, json=decision, headers=token)
    assert not_informed.json()["code"] == "party_not_informed"
    closed = await api.post(events, json={"kind": "closed", "data": {"reason": "撤销立案"}},
                            headers=token)
    assert closed.status_code == 201
    after = await api.post(events, json={"kind": "filed"}, headers=token)
    assert after.status_code == 409 and after.json()["code"] == "case_closed"
    case = (await api.get(f"/api/v1/cases/{code}", headers=token)).json()
    assert case["stage"] == "closed"
    assert [e["kind"] for e in case["events"]] == ["registered", "filed", "penalty_notice", "closed"]


async def test_event_data_errors_are_422_with_field_codes(api: httpx.AsyncClient,
                                                          agency_a: NewClient) -> None:
    token = bearer(await fetch_token(api, agency_a))
    code = (await register(api, token["Authorization"].split()[1])).json()["code"]
    response = await api.post(f"/api/v1/cases/{code}/events", headers=token, json={
        "kind": "penalty_notice", "data": {"facts": "x", "informed_at": "yesterday"}})
    assert response.status_code == 422
    assert response.json()["errors"] == {"informed_at": "invalid_instant",
                                         "legal_basis": "required", "proposed_penalty": "required"}
    unknown = await api.post(f"/api/v1/cases/{code}/events", headers=token,
                             json={"kind": "promoted", "data": {}, "by": "me"})
    assert unknown.json()["errors"] == {"by": "unknown_field", "kind": "unknown_kind"}


async def test_hearing_less_than_seven_working_days_ahead_is_refused(
        api: httpx.AsyncClient, agency_a: NewClient) -> None:
    # APL art. 64(2), 85: a hearing two days ahead cannot have been notified 7 working days ahead
    token = bearer(await fetch_token(api, agency_a))
    code = (await register(api, token["Authorization"].split()[1])).json()["code"]
    events = f"/api/v1/cases/{code}/events"
    assert (await api.post(events, json=NOTICE, headers=token)).status_code == 201
    hearing_day = (datetime.now(CHINA).date() + timedelta(days=2)).isoformat()
    response = await api.post(events, headers=token, json={"kind": "hearing_scheduled", "data": {
        "hearing_date": hearing_day, "place": "福州市鼓楼区听证室", "public": True}})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "hearing_notice_too_late" and "七个工作日" in problem["title"]
    assert problem["hearing_date"] == hearing_day
    assert problem["latest_notice_date"] < datetime.now(CHINA).date().isoformat()
    assert "最迟于" in problem["detail"]


async def test_qr_png_encodes_the_case_url_and_svg_draws_it(api: httpx.AsyncClient,
                                                            agency_a: NewClient) -> None:
    # FJ art. 29: scanning the code opens the case's public page, with its 128-bit token
    token = bearer(await fetch_token(api, agency_a))
    registered = (await register(api, token["Authorization"].split()[1])).json()
    url = registered["qr_url"]
    code = registered["code"]
    assert url == case_codes.case_url(PUBLIC_URL, api_secret(api), code)
    png = await api.get(registered["qr_png"], headers=token)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert decoded_modules(png.content) == case_codes.qr_modules(url)
    svg = await api.get(registered["qr_svg"], headers=token)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and b"<path" in svg.content and svg.content == case_codes.qr_svg(url)


def api_secret(api: httpx.AsyncClient) -> str:
    transport = api._transport
    assert isinstance(transport, httpx.ASGITransport)
    secret: str = transport.app.state.settings.key_text("case_qr")  # type: ignore[attr-defined]
    return secret


def decoded_modules(png: bytes) -> list[list[bool]]:
    """Read the QR symbol's modules back out of the image: sample each 8×8 box's centre."""
    image = Image.open(io.BytesIO(png)).convert("L")
    size = image.width // 8
    assert image.width == image.height == size * 8
    grey = image.tobytes()  # mode "L": one byte a pixel, row after row
    return [[grey[(y * 8 + 4) * image.width + x * 8 + 4] < 128 for x in range(size)] for y in range(size)]


async def test_each_party_s_deadlines_run_from_its_own_service(
        api: httpx.AsyncClient, agency_a: NewClient, app: Starlette, database: Database) -> None:
    # FJ art. 19: service through the portal is the arrival in the party's mailbox, and each
    # party's periods run from its own service (APL art. 45, 62, 64(1)). The notice says nothing
    # of when anyone was informed; only the company is served, through the portal.
    token = bearer(await fetch_token(api, agency_a))
    code = (await register(api, token["Authorization"].split()[1])).json()["code"]
    events = f"/api/v1/cases/{code}/events"
    assert (await api.post(events, json={"kind": "filed"}, headers=token)).status_code == 201
    assert (await api.post(events, json=NOTICE, headers=token)).status_code == 201
    async with database.sessions() as db:
        case = (await db.execute(select(Case).where(Case.code == code))).scalar_one()
        person, company = await cases.parties(db, case)
    await sign_consent(database, company.id)
    await deliver(database, app.state.blobs, company.id, case.id, document_type="行政处罚事先告知书")

    body = (await api.get(f"/api/v1/cases/{code}", headers=token)).json()
    assert [p["name"] for p in body["parties"]] == [person.name, company.name]
    statement = [d for d in body["deadlines"] if d["kind"] == "statement"]
    assert [d["party"] for d in statement] == [1]  # the company's, from its mailbox; none for 张三 yet
