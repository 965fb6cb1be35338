"""Notifications as the party sees them: the in-portal notices behind the bell, and the
settings page where the party chooses e-mail and SMS besides.

    GET  /notices                     the acting party's notices, newest first, unread marked
    GET  /notices/bell                the bell's block for htmx (without htmx: the same page)
    POST /notices/{id}/open           mark one read and go where it leads (a document, a fine…)
    POST /notices/{id}/read           mark one read
    POST /notices/read-all            mark all read
    GET  /account/notifications       the channels and the masked contacts on file
    POST /account/notifications       save them (fresh login needed)

Notices are read and marked read by whoever may read the acting party's mailbox; the contacts
are changed only with the full scope (a delegate for the mailbox cannot redirect notices).
Marking read changes state, so it is a POST with the CSRF token and never a side effect of
opening a page (SECURITY.md 3.5.1). The contacts decide where notices go, so saving them needs
a login from the last ten minutes, like consent (7.5.1); after that login the form is shown
again, never re-posted. The page shows the stored contacts masked: a session left open does
not hand out the party's number. Every notice query filters by the acting party, so another
party's notice id answers 404 (8.2.2).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal.database import transaction
from portal.errors import NotFound, ValidationFailed
from portal.services import notices
from portal.services.notification_preferences import (
    Preferences,
    get_preferences,
    mask_email,
    mask_mobile,
    normalise_email,
    normalise_mobile,
    set_preferences,
)
from portal.vocabulary import SCOPE_FULL, SCOPE_MAILBOX
from portal.web.auth import CurrentUser, current_user, require_fresh_login, require_party
from portal.web.bell import unread_notices
from portal.web.rendering import is_htmx, render

log = logging.getLogger("portal.notices")

SETTINGS_PATH = "/account/notifications"
NOTICES_SHOWN = 50
# htmx stops polling on this status (htmx docs, "hx-trigger": polling); the bell of a page
# whose session has ended stops asking instead of swapping the login page into the header.
STOP_POLLING = 286
_MAX_ID = 2**63 - 1  # the id column is a 64-bit integer: larger values cannot name a row


async def index(request: Request) -> Response:
    return await _notices_page(request, await require_party(request, SCOPE_MAILBOX), block=None)


async def bell(request: Request) -> Response:
    """The bell's block for htmx's refresh; a browser without htmx gets the notices page."""
    if current_user(request) is None and is_htmx(request):
        return _stopped_bell(request)
    return await _notices_page(request, await require_party(request, SCOPE_MAILBOX), block="bell")


async def _notices_page(request: Request, user: CurrentUser, *, block: str | None) -> Response:
    shown: list[notices.NoticeView] = []
    if block is None or not is_htmx(request):  # the bell's block needs only the count
        async with request.app.state.sessions() as db:
            shown = await notices.recent_notices(db, user.acting_party_id, limit=NOTICES_SHOWN)
    return render(request, "pages/notices/index.html", {
        "notices": shown, "unread": unread_notices(request), "limit": NOTICES_SHOWN,
    }, block=block)


def _stopped_bell(request: Request) -> HTMLResponse:
    response = render(request, "pages/notices/index.html", {"unread": None}, block="bell")
    response.status_code = STOP_POLLING
    return response


def _notice_id(request: Request) -> int:
    """The path's notice id; one that cannot name a row is the 404 of an unknown one."""
    notice_id: int = request.path_params["notice_id"]
    if not 0 < notice_id <= _MAX_ID:
        raise NotFound()
    return notice_id


async def mark_read(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with transaction(request.app.state.sessions) as db:
        await notices.mark_read(db, user.acting_party_id, _notice_id(request))
    return RedirectResponse("/notices", status_code=303)


async def open_notice(request: Request) -> Response:
    """A notice's link: a POST (it marks the notice read), then 303 to the page it is about."""
    user = await require_party(request, SCOPE_MAILBOX)
    async with transaction(request.app.state.sessions) as db:
        link = await notices.open_notice(db, user.acting_party_id, _notice_id(request))
    return RedirectResponse(link, status_code=303)


async def mark_all_read(request: Request) -> Response:
    user = await require_party(request, SCOPE_MAILBOX)
    async with transaction(request.app.state.sessions) as db:
        await notices.mark_all_read(db, user.acting_party_id)
    return RedirectResponse("/notices", status_code=303)


async def settings_page(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    return await _settings_page(request, user, saved=request.query_params.get("saved") == "1")


async def _settings_page(request: Request, user: CurrentUser, *, saved: bool = False,
                         errors: Mapping[str, str] | None = None,
                         form: Mapping[str, Any] | None = None, status: int = 200) -> Response:
    async with request.app.state.sessions() as db:
        current = await get_preferences(db, user.acting_party_id)
    return render(request, "pages/account/notifications.html", {
        "current": current,
        "masked_email": mask_email(current.email) if current.email else None,
        "masked_mobile": mask_mobile(current.mobile) if current.mobile else None,
        "form": form or {"email_enabled": current.email_enabled, "sms_enabled": current.sms_enabled},
        "error_codes": errors or {}, "saved": saved,
    }, status=status)


async def save_settings(request: Request) -> Response:
    user = await require_party(request, SCOPE_FULL)
    require_fresh_login(request, SETTINGS_PATH)
    async with request.form() as submitted:
        form = {
            "email": str(submitted.get("email", "")).strip(),
            "mobile": str(submitted.get("mobile", "")).strip(),
            "email_enabled": submitted.get("email_enabled") == "yes",
            "sms_enabled": submitted.get("sms_enabled") == "yes",
            "email_clear": submitted.get("email_clear") == "yes",
            "mobile_clear": submitted.get("mobile_clear") == "yes",
        }
    async with transaction(request.app.state.sessions) as db:
        current = await get_preferences(db, user.acting_party_id)
        try:
            choice = _choice(form, current)
        except ValidationFailed as failed:
            errors = failed.errors
        else:
            saved = await set_preferences(db, user.acting_party_id, **choice)
            log.info("notification channels changed", extra={
                "action": "notification_settings", "object": f"party:{user.acting_party_id}",
                "reason": ",".join(sorted(channel.value for channel in saved.channels))})
            return RedirectResponse(f"{SETTINGS_PATH}?saved=1", status_code=303)
    return await _settings_page(request, user, errors=errors, form=form, status=422)


def _choice(form: Mapping[str, Any], current: Preferences) -> dict[str, Any]:
    """What to store, from the form and what is on file, or every field's problem at once.

    A blank address keeps the one on file (the page shows it masked, so it cannot be filled
    in); "delete" forgets it. Error values are codes; the page words them.
    """
    errors: dict[str, str] = {}
    contacts: dict[str, str | None] = {}
    for field, normalise, stored in (("email", normalise_email, current.email),
                                     ("mobile", normalise_mobile, current.mobile)):
        entered = form[field]
        if entered:
            try:
                contacts[field] = normalise(entered)
            except ValidationFailed as failed:
                errors.update(failed.errors)
                contacts[field] = None
        else:
            contacts[field] = None if form[f"{field}_clear"] else stored
    if form["email_enabled"] and contacts["email"] is None:
        errors.setdefault("email", "required")
    if form["sms_enabled"] and contacts["mobile"] is None:
        errors.setdefault("mobile", "required")
    if errors:
        raise ValidationFailed(errors)
    return {"email": contacts["email"], "mobile": contacts["mobile"],
            "email_enabled": bool(form["email_enabled"]), "sms_enabled": bool(form["sms_enabled"])}
