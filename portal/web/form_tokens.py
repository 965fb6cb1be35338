"""One-time tokens of the forms that file a legal act, so that each act is filed exactly once.

Every rendering of such a form carries a fresh token in a hidden field (``FIELD``): a random
nonce, the person and the acting party, and an HMAC (key ``legal_form``) over those and the
form's path, which names the case (or mailbox item, or published item) and the kind of act.
The act is recorded with its nonce, unique among submissions (``Submission.form_token``), in
its one transaction; a second POST of the same form — a double tap, a refresh, Back and submit
again — finds the first act under the chain's lock and is sent to that act's confirmation page
instead of filing again (``services.submissions.AlreadyFiled``). The MAC makes a token useless
in another person's form or for another case. A POST without a valid token (a page from before
a key rotation, or not from the portal) answers the form again with what was typed and a new
token, to be sent once more: no act is filed without one.

The token is bound to the person, not to the session, so that it survives the fresh login a
legal act may need: the form comes back with what was typed, and the same token. It names its
person so that a form posted after the session lapsed can still be kept for them
(``web.form_drafts``); only that person, logged in again, gets it back.

The session also remembers the acts filed from it (form path → confirmation page), so that the
form opened again — the browser's Back — says 已提交 and links to the receipt, rather than
offering a blank form to file a second time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from portal.web.auth import CurrentUser
from portal.web.session import browser_session

FIELD = "form_token"
_FILED_KEY = "filed_forms"
_REMEMBERED = 10
_NONCE_HEX = 32


@dataclass(frozen=True)
class Issued:
    """What a genuine token says: to whom it was issued, for which acting party; its nonce."""

    person_id: int
    acting_party_id: int
    nonce: str


def _mac(conn: HTTPConnection, path: str, person_id: int, party_id: int, nonce: str) -> str:
    key = conn.scope["app"].state.settings.key("legal_form")
    message = f"{person_id}|{party_id}|{path}|{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def issue(conn: HTTPConnection, user: CurrentUser, path: str) -> str:
    """A new token for the form at ``path`` (its action), filled in by ``user``."""
    nonce = secrets.token_hex(_NONCE_HEX // 2)
    person, party = user.person_id, user.acting_party_id
    return f"{nonce}.{person}.{party}.{_mac(conn, path, person, party, nonce)}"


def issued(conn: HTTPConnection, path: str, token: object) -> Issued | None:
    """What ``token`` says, if the portal issued it for the form at ``path``."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 4 or not all(_small_number(part) for part in parts[1:3]):
        return None
    nonce, person, party, mac = parts[0], int(parts[1]), int(parts[2]), parts[3]
    if len(nonce) != _NONCE_HEX or not all(c in "0123456789abcdef" for c in nonce):
        return None
    genuine = hmac.compare_digest(mac.encode(), _mac(conn, path, person, party, nonce).encode())
    return Issued(person, party, nonce) if genuine else None


def _small_number(text: str) -> bool:
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


def nonce_of(conn: HTTPConnection, user: CurrentUser, path: str, token: object) -> str | None:
    """The nonce of ``token`` if the portal issued it to ``user`` for the form at ``path``."""
    found = issued(conn, path, token)
    if found is None or (found.person_id, found.acting_party_id) != (user.person_id, user.acting_party_id):
        return None
    return found.nonce


def remember_filed(conn: HTTPConnection, path: str, confirmation: str) -> None:
    """Note in the session that the form at ``path`` was filed; ``confirmation`` is its page."""
    session = browser_session(conn)
    if session is None:
        return
    filed = {k: v for k, v in dict(session.data.get(_FILED_KEY) or {}).items() if k != path}
    filed[path] = confirmation
    session[_FILED_KEY] = dict(list(filed.items())[-_REMEMBERED:])


def filed_from_session(conn: HTTPConnection, path: str) -> str | None:
    """The confirmation page of the act filed from the form at ``path`` in this session."""
    session = browser_session(conn)
    filed = session.data.get(_FILED_KEY) if session else None
    found = filed.get(path) if isinstance(filed, dict) else None
    return found if isinstance(found, str) else None
