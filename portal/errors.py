"""The portal's error tree, mapped to problem details and Chinese pages in one place.

    PortalError                      500 internal_error
    ├── BadRequest                   400 bad_request
    │   ├── ValidationFailed         422 validation_failed   (carries field errors)
    │   ├── Unprocessable            422 party_not_in_case | seal_invalid | changed_after_seal
    │   │                                | idempotency_key_reused
    │   │                                | hearing_notice_too_late | extension_not_later …
    │   │                                (carries extra problem members, e.g. a validation report)
    │   ├── CalendarFileError        400 calendar_file_invalid (portal.holiday_table)
    │   └── OAuthError               400 invalid_request | unsupported_grant_type | invalid_scope
    │       │                            | unauthorized_client  (token endpoint, RFC 6749 §5.2 body)
    │       └── InvalidClient        401 invalid_client       (client authentication failed)
    ├── Unauthenticated              401 unauthenticated      (no credentials presented)
    │   ├── ReauthenticationRequired 401 reauthentication_required (a legal act needs a fresh login)
    │   └── InvalidToken             401 invalid_token        (bearer token unknown, expired, revoked)
    ├── Forbidden                    403 forbidden
    │   └── CsrfFailed               403 csrf_failed
    ├── NotFound                     404 not_found
    ├── MethodNotAllowed             405 method_not_allowed
    ├── Conflict                     409 conflict | case_exists | case_closed | notice_required
    │   │                                | rights_window_open … (the order of a case: portal.cases.rules)
    │   │                                | publication_exists | withdrawal_too_early … (portal.publicity)
    │   │                                (may carry extra problem members, e.g. the earliest withdrawal)
    │   └── ConsentMissing           409 consent_required | consent_revoked (serve on paper instead)
    ├── PayloadTooLarge              413 payload_too_large
    ├── UnsupportedMediaType         415 unsupported_media_type
    ├── RateLimited                  429 rate_limited         (carries retry_after seconds)
    └── ServiceUnavailable           503 service_unavailable  (the database or the document store is
                                                              away; nothing was done; carries retry_after)
    ConfigurationError               raised at start-up only, never rendered

Each error carries a stable machine ``code`` (the API contract) and an optional ``detail``
code or text. The words a user reads come from ``portal.catalogue``; ``web/errors.py`` is
the one place that turns these into responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class ConfigurationError(Exception):
    """A setting is missing or malformed; the process must not start."""


class PortalError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail or code or self.code)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]


class BadRequest(PortalError):
    status = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    status = 422
    code = "validation_failed"

    def __init__(self, errors: Mapping[str, str], detail: str | None = None) -> None:
        super().__init__(detail)
        self.errors = dict(errors)


class OAuthError(BadRequest):
    """A refusal by the OAuth2 token endpoint; ``code`` is the RFC 6749 §5.2 ``error`` value and
    ``detail`` its ASCII ``error_description``."""

    code = "invalid_request"


class InvalidClient(OAuthError):
    status = 401
    code = "invalid_client"


class Unprocessable(BadRequest):
    """Well-formed but refused by a rule; ``extra`` adds members to the problem document."""

    status = 422

    def __init__(self, code: str, detail: str | None = None, *,
                 extra: Mapping[str, object] | None = None) -> None:
        super().__init__(detail, code=code)
        self.problem_extra = dict(extra or {})


class Unauthenticated(PortalError):
    status = 401
    code = "unauthenticated"


class InvalidToken(Unauthenticated):
    code = "invalid_token"


class ReauthenticationRequired(Unauthenticated):
    """Signing or revoking consent decides where legal service lands: it needs a login from
    the last few minutes (SECURITY.md, "Identity and sessions"; ASVS v5.0.0-7.5.1)."""

    code = "reauthentication_required"


class Forbidden(PortalError):
    status = 403
    code = "forbidden"


class CsrfFailed(Forbidden):
    code = "csrf_failed"


class NotFound(PortalError):
    status = 404
    code = "not_found"


class MethodNotAllowed(PortalError):
    status = 405
    code = "method_not_allowed"


class Conflict(PortalError):
    status = 409
    code = "conflict"

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 extra: Mapping[str, object] | None = None) -> None:
        super().__init__(detail, code=code)
        self.problem_extra = dict(extra or {})


class ConsentMissing(Conflict):
    """No signed, unrevoked consent covers this agency (FJ art. 19; APL art. 61)."""

    def __init__(self, code: str = "consent_required") -> None:
        super().__init__(code=code)


class PayloadTooLarge(PortalError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(PortalError):
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(PortalError):
    """The database or the document store did not answer: the request did nothing (its
    transaction, if any, was not committed) and may be repeated shortly."""

    status = 503
    code = "service_unavailable"
    retry_after = 5


class RateLimited(PortalError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))
