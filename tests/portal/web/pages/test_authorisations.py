"""Agents (APL art. 64(3): a party may be represented): a delegation to act carries a power of
attorney (授权委托书) the party signs with its remote-signing key, and the agency sees in the
case API who may act for each party of its case, with that signed PDF; what the agency reads
is checked against the OpenAPI document. Both databases."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from portal.services import cases
from tests.conftest import Database, csrf_from
from tests.portal.cases.factories import agency_http, notified_case, pdf_text
from tests.portal.web.api.conftest import OpenApiConformance
from tests.portal.web.delegation_flow import WANGWU, granted_id
from tests.portal.web.login_flow import log_in


async def test_a_signed_power_of_attorney_shows_the_agency_who_acts_for_the_party(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # APL art. 64(3); Electronic Signature Law art. 14: the agency sees the agent, full name
    # and ID number (it is entitled to know who appears before it), and the signed authority
    case = await notified_case(database, "榕市监处罚〔2026〕601号")
    await log_in(client, "zhangsan")
    delegation = await granted_id(client, "full")
    page = (await client.get(f"/account/delegations/{delegation}")).text
    assert "签署授权委托书" in page and WANGWU["delegate_id_number"] in page  # what will be signed
    token = await csrf_from(client, f"/account/delegations/{delegation}")
    signed = await client.post(f"/account/delegations/{delegation}/authorisation", data={"csrf_token": token})
    assert signed.status_code == 303 and signed.headers["location"].endswith("?signed=1")
    document = await client.get(f"/account/delegations/{delegation}/authorisation.pdf")
    report = await app.state.notary.verify(document.content)
    assert report.passed and report.signatures[0].signer_name == "张三"
    text = pdf_text(document.content)
    for expected in ("授权委托书", "王五", WANGWU["delegate_id_number"], "代为陈述、申辩", "第六十四条"):
        assert expected in text, expected
    again = await client.post(f"/account/delegations/{delegation}/authorisation", data={"csrf_token": token})
    assert again.status_code == 409  # one per delegation

    agency = await agency_http(app, database)
    agency.event_hooks["response"].append(OpenApiConformance(app))
    shown = (await agency.get(f"/api/v1/cases/{case.code}")).json()
    [representative] = shown["representatives"]
    assert representative["party"] == 0 and representative["name"] == "王五"
    assert representative["id_number"] == WANGWU["delegate_id_number"]
    assert representative["source"] == "delegation"
    pdf = await agency.get(representative["authorisation"]["url"])
    assert pdf.status_code == 200 and pdf.content == document.content
    other = await agency_http(app, database, "厦门市交通运输局")
    assert (await other.get(representative["authorisation"]["url"])).status_code == 404

    revoke = await csrf_from(client, f"/account/delegations/{delegation}/revoke")
    await client.post(f"/account/delegations/{delegation}/revoke", data={"csrf_token": revoke})
    assert (await agency.get(f"/api/v1/cases/{case.code}")).json()["representatives"] == []
    assert (await agency.get(representative["authorisation"]["url"])).status_code == 404
    for http in (agency, other):
        await http.aclose()


async def test_a_read_only_delegate_is_not_shown_and_signs_nothing(
        app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
    # PIPL art. 6 (minimum necessary) with APL art. 64(3): someone who may only read the mailbox
    # acts before no agency, so the agency is not told of them; the organisation's agent the
    # identity platform vouches for is shown (it acts for the company)
    company = await notified_case(database, "榕市监处罚〔2026〕602号", party=cases.NewParty(
        "organisation", "福州示例科技有限公司", credit_code="91350100MA2XY12346"))
    mine = await notified_case(database, "榕市监处罚〔2026〕603号")
    await log_in(client, "zhangsan")
    await granted_id(client, "mailbox")
    lisi = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await log_in(lisi, "lisi")  # the identity platform says 李四 acts for the company
    agency = await agency_http(app, database)
    assert (await agency.get(f"/api/v1/cases/{mine.code}")).json()["representatives"] == []
    [agent] = (await agency.get(f"/api/v1/cases/{company.code}")).json()["representatives"]
    assert (agent["name"], agent["source"], agent["authorisation"]) == ("李四", "identity_provider", None)
    for http in (agency, lisi):
        await http.aclose()
