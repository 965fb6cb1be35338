"""The agency's side of objections to data (GD art. 49; FJ art. 15): an objection arrives as a
submission (list, one, webhook) saying what it is about, and is answered once; every response
is checked against the OpenAPI document by the ``api`` client. Both databases."""

from __future__ import annotations

import json

import httpx
from starlette.applications import Starlette

from portal.database import transaction
from portal.services import cases, objections, submission_views
from portal.services.agencies import NewClient
from portal.workers.submissions import JOBS, webhook_body
from tests.conftest import Database
from tests.portal.cases.factories import notified_case
from tests.portal.web.api.conftest import bearer, fetch_token
from tests.portal.web.api.factories import deps


async def test_an_objection_is_listed_posted_and_answered_as_documented(
        app: Starlette, api: httpx.AsyncClient, database: Database, agency_a: NewClient) -> None:
    case = await notified_case(database, "榕市监处罚〔2026〕501号", agency=agency_a.agency_name)
    async with transaction(database.sessions) as db:
        [party] = await cases.parties(db, case)
        filed = await objections.on_case(db, app.state.blobs, case, objections.Filed(
            party.id, party.id, f"party:{party.id}",
            {"details": "案由中的日期有误", "correction": "2026年11月2日"}))
    await JOBS.drain(deps(app, database))
    token = await fetch_token(api, agency_a)

    listed = await api.get("/api/v1/submissions?kind=objection", headers=bearer(token))
    [one] = listed.json()["submissions"]
    assert one["kind"] == "objection" and one["subject"]["kind"] == "case"
    assert one["content"] == {"details": "案由中的日期有误", "correction": "2026年11月2日",
                              "subject": {"kind": "case"}}
    async with database.sessions() as db:  # the webhook carries the same document
        view = await submission_views.view(db, filed)
    assert json.loads(webhook_body("d-1", view))["submission"]["subject"] == one["subject"]

    answered = await api.post(f"/api/v1/objections/{filed.public_id}/answer", headers=bearer(token),
                              json={"outcome": "partly_corrected", "text": "日期已更正，其余维持。"})
    assert answered.status_code == 201
    assert answered.json()["outcome"] == "partly_corrected" and answered.json()["corrected_version"] is None
    again = await api.get(f"/api/v1/submissions/{filed.public_id}", headers=bearer(token))
    assert again.json()["answer"] == {k: v for k, v in answered.json().items() if k != "submission_id"}
    assert (await api.get("/api/v1/submissions", headers=bearer(token))).json()["submissions"] == []
    too_long = await api.post(f"/api/v1/objections/{filed.public_id}/answer", headers=bearer(token),
                              json={"outcome": "corrected", "text": "长" * 2001})
    assert too_long.status_code == 422 and too_long.json()["errors"] == {"text": "too_long"}
