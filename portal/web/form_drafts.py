"""Nothing typed is lost across the fresh login a legal act needs.

Every legal act needs a login from the last ``Settings.fresh_login_minutes``
(``web.auth.login_is_fresh``). When a form that files one is posted on an older login, what was
typed — text and choices, and the form's one-time token (``web.form_tokens``), so the act is
still filed once — is kept server-side as a draft for that person and that form
(``services.form_drafts``: never in the URL or a cookie); the person logs in again, lands on the
form, and finds it filled in. The draft goes when the form is filed (in the act's own
transaction), or after a day.

The same holds for a form posted after the session lapsed (the idle timeout passed while the
person was typing): the CSRF check knows the form is from this browser's previous session
(``web.csrf.lapsed_form``), and its one-time token names the person it was issued to, so what was
typed is kept for that person, who logs in again and finds it (``require_party_keeping``).

Attachments that passed the checks are kept with the draft, and so are they when another field
was wrong (``keep``): the form lists them and sends them again with what is chosen next
(``files_with_kept``), unless the person removes them. A file that failed the checks is not
kept; nor are files posted after the session lapsed (nobody was logged in to check them for),
while those kept before it lapsed stay with the draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request

from portal.database import transaction, utcnow
from portal.errors import Unauthenticated
from portal.services import form_drafts
from portal.vocabulary import SCOPE_FULL
from portal.web import form_tokens
from portal.web.auth import CurrentUser, current_user, login_is_fresh, require_fresh_login, require_party
from portal.web.csrf import FIELD as CSRF_FIELD
from portal.web.csrf import lapsed_form
from portal.web.session import page_session

MAX_FORM_FILES = 20
"""More file parts than a legal act's form takes is not a browser: Starlette refuses it."""
MAX_FORM_FIELDS = 30
KEEP_FIELD, DROP_FIELD = "keep_files", "drop_kept_files"


async def require_fresh_login_keeping(request: Request, user: CurrentUser, path: str,
                                      fields: Mapping[str, Any], files: Sequence[bytes] = ()) -> None:
    """``require_fresh_login`` back to the form at ``path``, keeping ``fields`` and the
    accepted ``files`` for it first."""
    if login_is_fresh(request):
        return
    await keep(request, user, path, fields, files)
    require_fresh_login(request, path)


async def keep(request: Request, user: CurrentUser, path: str, fields: Mapping[str, Any],
               files: Sequence[bytes] = ()) -> None:
    """Keep what was typed into the form at ``path`` and the attachments that passed."""
    await _keep(request, user.person_id, user.acting_party_id, path, fields, files)


async def kept_files(request: Request, user: CurrentUser, path: str) -> list[bytes]:
    """The attachments kept with the person's draft of the form at ``path``."""
    async with request.app.state.sessions() as db:
        return await form_drafts.files(db, person_id=user.person_id, acting_party_id=user.acting_party_id,
                                       path=path, now=utcnow())


async def files_with_kept(request: Request, user: CurrentUser, path: str, fields: dict[str, str],
                          files: list[bytes] | None) -> list[bytes] | None:
    """The files of this post after those kept from before, which the form lists and sends
    again (``KEEP_FIELD``) unless the person ticked their removal (``DROP_FIELD``)."""
    if files is None or fields.get(KEEP_FIELD) != "yes" or fields.get(DROP_FIELD) == "yes":
        return files
    return [*await kept_files(request, user, path), *files]


async def require_party_keeping(request: Request) -> CurrentUser:
    """``require_party`` with full scope for a legal act's form (``keep_if_lapsed`` first)."""
    await keep_if_lapsed(request)
    return await require_party(request, SCOPE_FULL)


async def keep_if_lapsed(request: Request) -> None:
    """If the session lapsed while the legal act's form at the request's path was open, keep
    what was typed for the person the form's token names, and send them to log in (and back
    to the form afterwards)."""
    if current_user(request) is None and lapsed_form(request):
        path = request.url.path
        async with request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS) as form:
            fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
        owner = form_tokens.issued(request, path, fields.get(form_tokens.FIELD))
        if owner is not None:
            files: list[bytes] = []
            if fields.get(KEEP_FIELD) == "yes" and fields.get(DROP_FIELD) != "yes":
                async with request.app.state.sessions() as db:  # kept before it lapsed: they stay
                    files = await form_drafts.files(db, person_id=owner.person_id,
                                                    acting_party_id=owner.acting_party_id, path=path,
                                                    now=utcnow())
            await _keep(request, owner.person_id, owner.acting_party_id, path, fields, files)
        page_session(request)["after_login"] = path
        raise Unauthenticated()


async def _keep(request: Request, person_id: int, acting_party_id: int, path: str,
                fields: Mapping[str, Any], files: Sequence[bytes] = ()) -> None:
    kept = {name: value for name, value in fields.items() if name not in (CSRF_FIELD, DROP_FIELD)}
    async with transaction(request.app.state.sessions) as db:
        await form_drafts.keep(db, person_id=person_id, acting_party_id=acting_party_id,
                               path=path, fields=kept, now=utcnow(), files=files)


async def restored(request: Request, user: CurrentUser, path: str) -> dict[str, Any] | None:
    """What the person typed into the form at ``path`` and did not file, if anything: text
    fields as text, a list of choices (checkboxes) as a list of text."""
    async with request.app.state.sessions() as db:
        return await form_drafts.find(db, person_id=user.person_id, acting_party_id=user.acting_party_id,
                                      path=path, now=utcnow())
