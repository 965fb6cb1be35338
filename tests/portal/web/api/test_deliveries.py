"""The delivery API: arrival is service, only with consent, only with a valid agency seal,
refusals store nothing, retries are safe (FJ art. 19; GD art. 30; APL art. 61)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from starlette.applications import Starlette

from portal.database import transaction
from portal.models.eservice import Delivery
from portal.services import agencies, consent, evidence
from portal.services.agencies import NewClient
from signing.structure import MAX_REVISIONS
from tests.builders import CaseWorld, case_world, credit_code, revoke_consent, sealed_pdf, sign_consent
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.web.api.conftest import fetch_token
from tests.signing.hostile import many_revisions


def _files(document: bytes, *, party: dict[str, str] | None = None, title: str = "榕市监罚〔2026〕1号",
           document_type: str = "行政处罚决定书") -> dict[str, tuple[str | None, bytes | str, str]]:
    meta = {"document_type": document_type, "title": title,
            "party": party or {"id_number": ZHANGSAN.id_number}}
    return {"document": ("decision.pdf", document, "application/pdf"),
            "metadata": (None, json.dumps(meta, ensure_ascii=False), "application/json")}


async def _post(api: httpx.AsyncClient, token: str, code: str, files: dict, key: str | None = None
                ) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"}
    if key:
        headers["idempotency-key"] = key
    return await api.post(f"/api/v1/cases/{code}/deliveries", files=files, headers=headers)


async def _stored(database: Database) -> int:
    async with database.sessions() as db:
        return (await db.execute(select(func.count()).select_from(Delivery))).scalar_one()


async def _setup(database: Database, api: httpx.AsyncClient, agency: NewClient) -> tuple[CaseWorld, str]:
    w = await case_world(database)
    assert w.agency_id == agency.agency_id
    return w, await fetch_token(api, agency)


async def test_without_consent_the_agency_is_told_to_serve_otherwise(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # FJ art. 19; APL art. 61: no consent in force → 409 consent_required, nothing stored
    w, token = await _setup(database, api, agency_a)
    response = await _post(api, token, w.case_code, _files(await sealed_pdf(data_dir, agency_a.agency_name)))
    assert response.status_code == 409
    assert response.json()["code"] == "consent_required"
    assert await _stored(database) == 0


async def test_delivery_arrives_and_states_the_service_time(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # FJ art. 19; GD art. 30: the arrival instant is the service time, returned to the agency
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    response = await _post(api, token, w.case_code, _files(await sealed_pdf(data_dir, agency_a.agency_name)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["service_time"].endswith("Z") and "." in body["service_time"]  # microseconds
    assert body["service_time_china"].endswith("+08:00")
    assert body["receipt"]["status"] == "pending"
    again = await api.get(f"/api/v1/deliveries/{body['delivery_id']}",
                          headers={"authorization": f"Bearer {token}"})
    assert again.status_code == 200
    assert again.json()["service_time"] == body["service_time"]
    assert again.json()["arrival_event_hash"] == body["arrival_event_hash"]
    assert again.json() == body  # the answer at arrival states what the stored rows state


async def test_same_idempotency_key_returns_the_same_delivery(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    document = await sealed_pdf(data_dir, agency_a.agency_name)
    first = await _post(api, token, w.case_code, _files(document), key="retry-1")
    second = await _post(api, token, w.case_code, _files(document), key="retry-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    different = await _post(api, token, w.case_code, _files(document, title="另一份文书"), key="retry-1")
    assert different.status_code == 422
    assert different.json()["code"] == "idempotency_key_reused"
    assert await _stored(database) == 1


async def _waiting_on_locks(database: Database, count: int) -> None:
    """Until ``count`` sessions of this database wait for a lock (30 s at most)."""
    for _ in range(300):
        async with database.sessions() as db:
            waiting = (await db.execute(text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"))).scalar_one()
        if waiting >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{waiting} sessions waiting for a lock, not {count}")


async def test_two_concurrent_requests_with_one_idempotency_key_give_one_delivery(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # SECURITY.md: every legal act is idempotent, double submissions return the first act; an
    # agency's retry racing its first attempt (after a timeout, through another node) too
    # is answered with the same delivery, never a second service nor a 500
    if database.backend != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: no race to lose")
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    document = await sealed_pdf(data_dir, agency_a.agency_name)
    # Both requests are held at the door of their delivery transaction (the party's evidence
    # chain is locked here) until each has checked the key and found nothing stored yet.
    async with transaction(database.sessions) as holder:
        await evidence.lock(holder, consent.party_chain(w.party_id))
        racing = [asyncio.create_task(_post(api, token, w.case_code, _files(document), key="race-1"))
                  for _ in range(2)]
        await _waiting_on_locks(database, 2)
    first, second = await asyncio.gather(*racing)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json() == second.json()
    assert await _stored(database) == 1


async def test_unsealed_or_foreign_sealed_document_is_refused_with_the_report(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # FJ art. 18; GD art. 27-28: only a valid e-seal of the delivering agency
    from tests.signing.sample_pdfs import make_pdf

    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    unsealed = await _post(api, token, w.case_code, _files(make_pdf()))
    assert unsealed.status_code == 422
    assert unsealed.json()["code"] == "seal_invalid"
    assert unsealed.json()["report"]["signatures"] == []
    foreign = await _post(api, token, w.case_code, _files(await sealed_pdf(data_dir, "厦门市交通运输局")))
    assert foreign.status_code == 422 and foreign.json()["code"] == "seal_invalid"
    assert foreign.json()["report"]["indication"] == "TOTAL_PASSED"  # valid, but not this agency's
    assert await _stored(database) == 0


async def test_party_not_in_case_and_bad_metadata(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    document = await sealed_pdf(data_dir, agency_a.agency_name)
    wangwu = {"id_number": "350102197811037895"}
    stranger = await _post(api, token, w.case_code, _files(document, party=wangwu))
    assert stranger.status_code == 422 and stranger.json()["code"] == "party_not_in_case"
    bad = await _post(api, token, w.case_code, _files(document, party={"id_number": "350102197811037890"},
                                                       document_type="随便什么"))
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"party": "invalid_id_number", "document_type": "invalid_choice"}
    not_pdf = await _post(api, token, w.case_code, _files(b"hello"))
    assert not_pdf.json()["errors"] == {"document": "not_pdf"}
    assert await _stored(database) == 0


async def test_revoked_consent_is_refused_and_another_agency_sees_nothing(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, agency_b: NewClient,
        data_dir: Path) -> None:
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    delivered = await _post(api, token, w.case_code, _files(await sealed_pdf(data_dir, agency_a.agency_name)))
    await revoke_consent(database, w.party_id)
    refused = await _post(api, token, w.case_code, _files(await sealed_pdf(data_dir, agency_a.agency_name)))
    assert refused.status_code == 409 and refused.json()["code"] == "consent_revoked"
    token_b = await fetch_token(api, agency_b)
    foreign_document = await sealed_pdf(data_dir, agency_b.agency_name)
    other_case = await _post(api, token_b, w.case_code, _files(foreign_document))
    assert other_case.status_code == 404
    other_delivery = await api.get(f"/api/v1/deliveries/{delivered.json()['delivery_id']}",
                                   headers={"authorization": f"Bearer {token_b}"})
    assert other_delivery.status_code == 404


async def test_receipt_is_pending_until_the_worker_issues_it(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    delivered = await _post(api, token, w.case_code, _files(await sealed_pdf(data_dir, agency_a.agency_name)))
    receipt = await api.get(f"/api/v1/deliveries/{delivered.json()['delivery_id']}/receipt",
                            headers={"authorization": f"Bearer {token}"})
    assert receipt.status_code == 409
    assert receipt.json()["code"] == "receipt_pending" and receipt.headers["retry-after"] == "5"


async def test_a_document_changed_after_its_seal_is_refused(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # a sealed decision "form-filled" afterwards to show another amount passes as
    # TOTAL_PASSED (the seal permits form filling) but is not what the agency sealed
    from pyhanko.pdf_utils.form_tools import populate_static_text_field
    from pyhanko.pdf_utils.text import TextBoxStyle

    from tests.signing import hostile

    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    sealed = await sealed_pdf(data_dir, agency_a.agency_name, form_field=True)
    filled = hostile.edit(sealed, lambda writer: populate_static_text_field(
        writer, "remark", TextBoxStyle(), "fine: 50 yuan"))
    answer = await _post(api, token, w.case_code, _files(filled))
    assert answer.status_code == 422 and answer.json()["code"] == "changed_after_seal"
    assert answer.json()["report"]["indication"] == "TOTAL_PASSED"  # the seal itself is valid
    assert answer.json()["report"]["changed_after_signing"] is True
    assert await _stored(database) == 0
    assert (await _post(api, token, w.case_code, _files(sealed))).status_code == 201


@pytest.mark.own_dev_pki  # seals the agency's code under a former name
async def test_the_seal_is_the_agencys_by_credit_code_not_by_name(
        database: Database, api: httpx.AsyncClient, agency_a: NewClient, data_dir: Path) -> None:
    # FJ art. 18; GD art. 27-28: an organisation elsewhere bearing the agency's very
    # name, with its own code and a certificate from a trusted CA, cannot serve in its name
    w, token = await _setup(database, api, agency_a)
    await sign_consent(database, w.party_id)
    namesake = await sealed_pdf(data_dir, agency_a.agency_name, code=credit_code("另一个同名机关"))
    refused = await _post(api, token, w.case_code, _files(namesake))
    assert refused.status_code == 422 and refused.json()["code"] == "seal_invalid"
    seal = refused.json()["report"]["signatures"][0]
    assert seal["organisation"] == agency_a.agency_name and seal["indication"] == "TOTAL_PASSED"
    assert seal["organisation_id"] != agency_a.credit_code
    assert await _stored(database) == 0
    # the agency's code under a name it no longer bears (a seal from before a reorganisation)
    renamed = await sealed_pdf(data_dir, "福州市工商行政管理局", code=agency_a.credit_code)
    assert (await _post(api, token, w.case_code, _files(renamed))).status_code == 201


async def test_an_agency_without_a_credit_code_cannot_serve(
        database: Database, api: httpx.AsyncClient, data_dir: Path) -> None:
    # no code on record, no seal can be matched (its name alone decides nothing);
    # refused before the file is verified, and the agency is told to serve by other means
    async with transaction(database.sessions) as db:
        unidentified = await agencies.create_client(db, "福州市市场监督管理局")
    assert unidentified.credit_code is None
    w, token = await _setup(database, api, unidentified)
    await sign_consent(database, w.party_id)
    document = await sealed_pdf(data_dir, unidentified.agency_name)
    answer = await _post(api, token, w.case_code, _files(document))
    assert answer.status_code == 409 and answer.json()["code"] == "agency_credit_code_missing"
    assert "统一社会信用代码" in answer.json()["title"]
    me = await api.get("/api/v1/agency", headers={"authorization": f"Bearer {token}"})
    assert me.json()["credit_code"] is None
    assert await _stored(database) == 0
    async with transaction(database.sessions) as db:  # the operator records the code
        await agencies.record_credit_code(db, unidentified.agency_name, credit_code(unidentified.agency_name))
    served = await _post(api, token, w.case_code, _files(document))
    assert served.status_code == 201, served.text


async def test_agency_clients_behind_one_address_each_have_their_place_with_the_verifiers(
        database: Database, api: httpx.AsyncClient, app: Starlette, agency_a: NewClient,
        data_dir: Path) -> None:
    # SECURITY.md 15.2.2: the seal-checking workers are shared fairly per API client, not per
    # address. Two clients of the agency reach the portal through one gateway (here: one
    # address): one sends heavy files, which keep one worker of two busy and no more; the
    # other client's document is checked meanwhile by the other worker, not after them.
    w, heavy_token = await _setup(database, api, agency_a)
    async with transaction(database.sessions) as db:
        other = await agencies.create_client(db, agency_a.agency_name, credit_code(agency_a.agency_name))
    other_token = await fetch_token(api, other)
    await sign_consent(database, w.party_id)
    sealed = await sealed_pdf(data_dir, agency_a.agency_name)
    heavy = many_revisions(sealed, MAX_REVISIONS - 10)  # passes the outline checks, seconds to verify
    # both workers started before anything is compared
    warm = await asyncio.gather(*(_post(api, token, w.case_code, _files(sealed, title=f"预热 {n}"))
                                  for n, token in enumerate((heavy_token, other_token))))
    assert [response.status_code for response in warm] == [201, 201]
    runner = app.state.notary._runner
    assert runner.workers == 2
    finished: list[str] = []

    async def serve(token: str, document: bytes, who: str, title: str) -> int:
        response = await _post(api, token, w.case_code, _files(document, title=title))
        finished.append(who)
        return response.status_code

    flood = [asyncio.create_task(serve(heavy_token, heavy, "heavy", f"大文件 {n}")) for n in range(2)]
    await _until(lambda: runner._busy == 1 and sum(map(len, runner._waiting.values())) == 1)
    assert await serve(other_token, sealed, "light", "决定书") == 201
    # counted by address, the light file would have waited for both heavy ones
    assert finished == ["light"]
    assert all(status in (201, 422) for status in await asyncio.gather(*flood))


async def _until(condition: Callable[[], bool]) -> None:
    """Await the runner's state, yielding to the requests in flight meanwhile."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the runner never reached the state awaited")
