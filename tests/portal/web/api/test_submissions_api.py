"""The agency's side of the parties' rights: list new submissions, read one with its attachments
and receipt, acknowledge it; register a webhook. Every response is checked against the OpenAPI
document by the ``api`` client; another agency's submission is 404 (SECURITY.md 8.4.1). Both
databases."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from portal.services.agencies import NewClient
from portal.workers.submissions import JOBS
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.cases.factories import attached, filed, notified_case, pdf, png
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import deps


async def test_agency_lists_reads_and_acknowledges_new_submissions(
        app: Starlette, api: httpx.AsyncClient, database: Database,
        agency_a: NewClient, agency_b: NewClient) -> None:
    mine = await notified_case(database, "榕市监处罚〔2026〕301号", agency=agency_a.agency_name)
    theirs = await notified_case(database, "厦交运罚〔2026〕9号", agency=agency_b.agency_name)
    statement = await filed(database, app.state.blobs, mine, "所售酸奶系赠品",
                            files=await attached([pdf(), png()]))
    await filed(database, app.state.blobs, theirs, "另一机关的案件")
    token_a, token_b = await fetch_token(api, agency_a), await fetch_token(api, agency_b)

    listed = (await api.get("/api/v1/submissions", headers=bearer(token_a))).json()
    assert [s["submission_id"] for s in listed["submissions"]] == [statement.public_id]
    assert listed["next_after"] is None
    one = listed["submissions"][0]
    assert one["kind"] == "statement" and one["content"] == {"text": "所售酸奶系赠品"}
    assert one["party"] == {"kind": "person", "name": "张三", "id_number": ZHANGSAN.id_number}
    assert one["case_code"] == mine.code and one["window"]["kind"] == "statement"
    assert [a["name"] for a in one["attachments"]] == ["附件1.pdf", "附件2.png"]
    assert one["receipt"]["status"] == "pending" and one["acknowledged_at"] is None

    file = await api.get(one["attachments"][1]["url"], headers=bearer(token_a))
    assert file.status_code == 200 and file.content == png()
    assert file.headers["content-type"] == "application/octet-stream"
    pending = await api.get(one["receipt"]["url"], headers=bearer(token_a))
    assert pending.status_code == 409 and pending.json()["code"] == "submission_receipt_pending"
    await JOBS.drain(deps(app, database))  # the worker seals the receipt
    receipt = await api.get(one["receipt"]["url"], headers=bearer(token_a))
    assert receipt.status_code == 200 and (await app.state.notary.verify(receipt.content)).passed

    url = f"/api/v1/submissions/{statement.public_id}"
    for path in (url, f"{url}/attachments/1", f"{url}/receipt"):  # agency B: as if it did not exist
        assert (await api.get(path, headers=bearer(token_b))).status_code == 404
    assert (await api.post(f"{url}/acknowledgement", headers=bearer(token_b))).status_code == 404
    assert (await api.get(f"{url}/attachments/9", headers=bearer(token_a))).status_code == 404

    acknowledged = await api.post(f"{url}/acknowledgement", headers=bearer(token_a))
    assert acknowledged.status_code == 200
    again = await api.post(f"{url}/acknowledgement", headers=bearer(token_a))
    assert again.json() == acknowledged.json()  # recorded once
    assert (await api.get("/api/v1/submissions", headers=bearer(token_a))).json()["submissions"] == []
    done = (await api.get("/api/v1/submissions?status=acknowledged", headers=bearer(token_a))).json()
    assert done["submissions"][0]["acknowledged_at"] == acknowledged.json()["acknowledged_at"]


async def test_list_filters_and_pages(app: Starlette, api: httpx.AsyncClient, database: Database,
                                      agency_a: NewClient) -> None:
    first = await notified_case(database, "榕市监处罚〔2026〕302号", agency=agency_a.agency_name)
    second = await notified_case(database, "榕市监处罚〔2026〕303号", agency=agency_a.agency_name)
    ids = [(await filed(database, app.state.blobs, case, f"意见{n}")).public_id
           for n, case in enumerate((first, second, first))]
    token = await fetch_token(api, agency_a)

    async def listed(query: str) -> list[str]:
        response = await api.get(f"/api/v1/submissions?{query}", headers=bearer(token))
        assert response.status_code == 200, response.text
        return [s["submission_id"] for s in response.json()["submissions"]]

    assert await listed(f"case_code={first.code}") == [ids[0], ids[2]]
    assert await listed("kind=hearing_request") == []
    assert await listed("limit=2") == ids[:2]
    assert await listed(f"limit=2&after={ids[1]}") == ids[2:]
    assert await listed("since=2999-01-01T00:00:00%2B08:00") == []
    bad = await api.get("/api/v1/submissions?status=old&limit=0&since=yesterday", headers=bearer(token))
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"status": "invalid_choice", "limit": "out_of_range",
                                    "since": "invalid_instant"}


async def test_webhook_registration_needs_https_and_shows_the_secret_once(
        api: httpx.AsyncClient, agency_a: NewClient) -> None:
    token = await fetch_token(api, agency_a)
    assert (await api.get("/api/v1/webhook", headers=bearer(token))).status_code == 404
    for url in ("http://agency.example/hook", "ftp://agency.example/", "https://user:pw@agency.example/",
                "http://localhost/hook", "not a url", "https://169.254.169.254/latest/meta-data",
                "https://[::ffff:169.254.169.254]/", "https://127.0.0.1:5432/", "https://localhost/",
                "https://0.0.0.0/", "https://224.0.0.1/",
                # cloud metadata outside link-local: Alibaba Cloud, AWS over IPv6
                "https://100.100.100.200/latest/meta-data/", "https://[fd00:ec2::254]/latest/"):
        refused = await api.put("/api/v1/webhook", json={"url": url}, headers=bearer(token))
        assert refused.status_code == 422 and refused.json()["code"] == "webhook_url_invalid", url
    extranet = await api.put("/api/v1/webhook", json={"url": "https://10.20.30.40/hook"},
                             headers=bearer(token))
    assert extranet.status_code == 200  # a government extranet's private address is a receiver
    registered = await api.put("/api/v1/webhook", json={"url": "https://agency.example/portal-hook"},
                               headers=bearer(token))
    assert registered.status_code == 200
    secret = registered.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    shown = await api.get("/api/v1/webhook", headers=bearer(token))
    assert shown.json()["url"] == "https://agency.example/portal-hook" and secret not in shown.text
    replaced = await api.put("/api/v1/webhook", json={"url": "http://127.0.0.1:9/hook"},
                             headers=bearer(token))
    assert replaced.status_code == 200 and replaced.json()["secret"] != secret
