"""Cases the rights tests start from, registered through ``services.cases`` so they pass the
same rules as an agency's calls, and the files a party attaches."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from portal.attachments import MAX_FILE_BYTES, Attachment, checked
from portal.blobstore import BlobStore
from portal.cases.intake import NewParty
from portal.cases.rights import SubmissionKind
from portal.database import transaction, utcnow
from portal.evidence_hash import instant_text
from portal.models import Submission
from portal.models.cases import Case
from portal.services import (
    agencies,
    api_tokens,
    cases,
    submissions,
)
from portal.services.calendar import load_calendar
from signing import FileProblem
from signing.structure import attachment_problem
from tests.builders import new_case
from tests.conftest import CSRF_RE, Database
from tests.identities import ZHANGSAN
from tests.portal.web.delegation_flow import browser
from tests.signing.sample_pdfs import make_pdf

AGENCY = "福州市市场监督管理局"
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
NOTICE: dict[str, Any] = {
    "proposed_penalty": "没收违法所得，并处罚款人民币一万元", "proposed_fine_fen": 1_000_000,
    "facts": "当事人销售超过保质期的酸奶12盒", "legal_basis": "《中华人民共和国食品安全法》第一百二十四条"}
DECISION: dict[str, Any] = {"decision_number": "榕市监罚字〔2026〕5号", "penalty": "罚款人民币一万元",
                            "fine_fen": 1_000_000}


async def agency_id(database: Database, name: str = AGENCY) -> int:
    async with transaction(database.sessions) as db:
        return (await agencies.get_or_create_agency(db, name)).id


async def notified_case(database: Database, number: str, *, informed: datetime | None = None,
                        hearing_right: bool = True, party: NewParty = ZHANGSAN.party,
                        also: tuple[NewParty, ...] = (), agency: str = AGENCY) -> Case:
    """A case of ``party`` (and ``also``) whose prior notice reached them at ``informed``, as
    the agency records it (default: an hour ago)."""
    informed = informed or utcnow() - timedelta(hours=1)
    async with transaction(database.sessions) as db:
        agency_id = (await agencies.get_or_create_agency(db, agency)).id
        case = await cases.register_case(
            db, agency_id, replace(new_case(number, party, *also), hearing_right=hearing_right))
        await cases.add_stage_event(db, case, "penalty_notice", {
            **NOTICE, "occurred_at": instant_text(informed - timedelta(minutes=30)),
            "informed_at": instant_text(informed)}, "agency:test")
        return case


async def decide(db: AsyncSession, case: Case, at: datetime | None = None) -> None:
    data: dict[str, Any] = {**DECISION}
    if at is not None:
        data["occurred_at"] = instant_text(at)
    await cases.add_stage_event(db, case, "decided", data, "agency:test")


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 30, 200)).save(out, format="JPEG")
    return out.getvalue()


async def open_in_process(data: bytes) -> FileProblem | None:
    """What the verification workers answer for a PDF attachment, asked in this process."""
    return attachment_problem(data, MAX_FILE_BYTES)


async def attached(files: list[bytes]) -> tuple[Attachment, ...]:
    """``files`` accepted as a party's attachments by the portal's rules."""
    return await checked(files, open_in_process)


def pdf() -> bytes:
    return make_pdf(lines=("证据材料", "进货发票复印件"))




async def post_form(http: httpx.AsyncClient, path: str, data: dict[str, str],
                    files: list[tuple[str, tuple[str, bytes, str]]] | None = None, *,
                    page: str | None = None) -> httpx.Response:
    """Open the form at ``path`` (or ``page``), as a browser would, and post it to ``path`` with
    the hidden fields the page carries (the CSRF token, the form's one-time token)."""
    return await http.post(path, data={**await hidden_fields(http, page or path), **data}, files=files)


async def hidden_fields(http: httpx.AsyncClient, path: str) -> dict[str, str]:
    """The CSRF token and, on a legal act's form, its one-time token, as the page has them."""
    page = await http.get(path)
    csrf = CSRF_RE.search(page.text)
    assert csrf, f"no CSRF token on {path}"
    fields = {"csrf_token": csrf.group(1)}
    token = FORM_TOKEN_RE.search(page.text)
    if token:
        fields["form_token"] = token.group(1)
    return fields


def pdf_text(data: bytes) -> str:
    """The text of a PDF with all white space removed (layout breaks lines anywhere)."""
    pages = PdfReader(io.BytesIO(data)).pages
    return "".join("".join(page.extract_text().split()) for page in pages).replace("\x00", "")


async def filed(database: Database, blobs: BlobStore, case: Case, text: str = "我有异议",
                files: tuple[Attachment, ...] = ()) -> Submission:
    """A statement the case's first party filed (through the service, as the page does)."""
    async with transaction(database.sessions) as db:
        party = (await cases.parties(db, case))[0]
        return await submissions.submit(
            db, blobs, case=case, party_id=party.id, person_id=party.id, actor=f"party:{party.id}",
            new=submissions.NewSubmission(SubmissionKind.STATEMENT, {"text": text}, files),
            calendar=await load_calendar(db))


RECEIPT_LINK = re.compile(r'href="(/cases/\w+/submissions/(\w+)/receipt)"')


async def receipt_of(app: Starlette, client: httpx.AsyncClient, confirmation: str) -> tuple[str, bytes]:
    """The submission id and the receipt PDF linked from a confirmation page, checked: sealed by
    the portal, validating as PAdES with its timestamp."""
    page = await client.get(confirmation)
    assert page.status_code == 200, page.text
    match = RECEIPT_LINK.search(page.text)
    assert match, "no receipt on the confirmation page"
    response = await client.get(match.group(1))
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    report = await app.state.notary.verify(response.content)
    assert report.passed, report.summary
    assert report.signatures[0].timestamp is not None  # RFC 3161: when it was sealed
    return match.group(2), response.content


async def stored(database: Database) -> list[Submission]:
    async with database.sessions() as db:
        return list((await db.execute(select(Submission).order_by(Submission.id))).scalars())


async def agency_http(app: Starlette, database: Database, name: str = AGENCY) -> httpx.AsyncClient:
    """The API client of the agency ``name``, with a token of its own."""
    value = api_tokens.new_token_value()
    async with transaction(database.sessions) as db:
        new = await agencies.create_client(db, name)
        await api_tokens.store_token(db, value, client_id=new.client_id, agency_id=new.agency_id,
                                     scope="agency", lifetime=timedelta(hours=1))
    http = browser(app)
    http.headers["authorization"] = f"Bearer {value}"
    return http
