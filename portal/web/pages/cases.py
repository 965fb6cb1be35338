"""Case pages: the public lookup by code or QR, and the party's own cases.

Public (FJ art. 8, 29; SECURITY.md "Business logic"): ``/c`` (a form: type the code) and
``/c/{code}`` (where a QR code leads) show the public status only: agency, case type, stage and
the dates stages were reached; no names, amounts, matter or personal data. A typed lookup is
limited per client (``CASE_LOOKUPS``); a scan carrying the case's valid QR token is not, since
it proves the code was read off a document, not guessed. An unknown code, a mistyped one and
one whose check character fails get one and the same "未找到该案件" page (404), so the answer
never tells which codes exist (ASVS v5.0.0-2.4.1). Referrer-Policy is ``no-referrer`` on every
response (``security_headers``), so the token never leaves in a Referer.

Party (login required): ``/cases`` lists the acting party's cases and ``/cases/{code}`` shows
one in full, the task first (what to do now, each a link to its task, from
``services.todo.case_tasks``), then agency, case number, matter, officers with their
credentials (APL art. 55), timeline and every deadline with how it was counted. Another party's
case is 404 (v5.0.0-8.2.2). The page's named blocks (``deadlines``, ``timeline``, ``rights``)
are the fragments later htmx swaps; ``rights`` lists what the party may do now
(``services.submissions.overview``), each right linking to its form (``pages.rights``), and
what it filed, with the receipts. Why a right is closed is said in the party's words
(``catalogue.PARTY_TITLES``), not the agency's.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal import catalogue
from portal.cases import codes as case_codes
from portal.catalogue.errors import PARTY_WORDS as PARTY_TITLE_WORDS
from portal.database import utcnow
from portal.errors import NotFound
from portal.legal_calendar import china_date, fallback_warning
from portal.services import cases, fine_views, rate_limits, submissions, todo
from portal.services.calendar import load_calendar
from portal.vocabulary import SCOPE_FULL, SCOPE_MAILBOX
from portal.web.auth import current_user, require_party
from portal.web.client import public_read
from portal.web.clock import request_now
from portal.web.rendering import render

CASE_LOOKUPS = rate_limits.Limit("case_lookup", requests=30, window_seconds=60)
_MAX_TYPED = 40  # longer input cannot be a code; it is echoed back at most this long
_HEADERS = {"x-robots-tag": "noindex"}


async def lookup(request: Request) -> Response:
    """``/c``: the lookup form, or its answer when a code was typed (``?code=``)."""
    typed = request.query_params.get("code")
    if typed is None:
        return render(request, "pages/cases/lookup.html", {"typed": ""}, headers=_HEADERS)
    return await _answer(request, typed, token=None)


async def public_case(request: Request) -> Response:
    """``/c/{code}``: where the QR code on a document leads (``?t=`` carries its token)."""
    return await _answer(request, request.path_params["code"], request.query_params.get("t"))


def _scanned(request: Request, typed: str, token: str | None) -> bool:
    """Whether ``token`` is the QR token of the code: a scan, not a guess."""
    code = case_codes.normalise(typed)
    if code is None or not token or not token.isascii():
        return False
    return case_codes.token_matches(request.app.state.settings.key_text("case_qr"), code, token)


async def _answer(request: Request, typed: str, token: str | None) -> Response:
    user = current_user(request)
    async with public_read(request, None if _scanned(request, typed, token) else CASE_LOOKUPS) as db:
        try:
            case, status = await cases.public_status(db, typed[:_MAX_TYPED])
        except NotFound:
            return render(request, "pages/cases/lookup.html",
                          {"typed": typed[:_MAX_TYPED], "not_found": True},
                          status=404, headers=_HEADERS)
        is_party = user is not None and await cases.party_in_case(db, case.id, user.acting_party_id)
    return render(request, "pages/cases/public.html",
                  {"status": status, "code": case.code, "is_party": is_party}, headers=_HEADERS)


async def my_cases(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        summaries = await cases.case_summaries(db, user.acting_party_id)
    return render(request, "pages/cases/list.html", {"cases": summaries})


async def case_page(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with request.app.state.sessions() as db:
        calendar = await load_calendar(db)
        view = await cases.party_view(db, user.acting_party_id, request.path_params["code"], calendar)
        fines = await fine_views.case_fines(db, view.case.id, user.acting_party_id, china_date(utcnow()))
        rights = await submissions.overview(db, view.case, user.acting_party_id, calendar,
                                            request_now(request))
        tasks = await todo.case_tasks(db, user.acting_party_id, view.case, request_now(request), calendar)
    return render(request, "pages/cases/detail.html", {
        "view": view,
        "fines": fines,
        "now": utcnow(),
        "fallback_warning": fallback_warning(view.fallback_years),
        "deadline_labels": {kind.value: catalogue.CASES[f"deadline.{kind.value}"]
                            for kind in view.unreadable},
        "rights": rights,
        "tasks": tasks,
        "can_act": user.scope == SCOPE_FULL,
        "titles": PARTY_TITLE_WORDS,
    })
