"""The submissions API: an agency fetches what parties filed in its cases, acknowledges it, and
may have each new one POSTed to a webhook.

    GET  /api/v1/submissions                               list (default: not yet acknowledged)
    GET  /api/v1/submissions/{id}                          one submission
    GET  /api/v1/submissions/{id}/attachments/{position}   an attached file
    GET  /api/v1/submissions/{id}/receipt                  the party's sealed receipt (PDF)
    POST /api/v1/submissions/{id}/acknowledgement          the agency has it (idempotent)
    PUT  /api/v1/webhook                                   register the webhook URL (new secret)
    GET  /api/v1/webhook                                   the registered URL (never the secret)

Another agency's submission answers 404 like a missing one (ASVS v5.0.0-8.4.1). The webhook's
signature and the receiver's checks are documented on ``PUT /api/v1/webhook`` (and in
``portal.webhooks``, a helper an agency may copy).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal import fields
from portal import webhooks as signing_rules
from portal.attachments import internal_name
from portal.cases.objections import Outcome
from portal.cases.rights import SubmissionKind
from portal.catalogue import RIGHTS
from portal.errors import NotFound
from portal.evidence_hash import instant_text
from portal.services import submission_views, submissions, webhooks
from portal.services.api_tokens import AgencyPrincipal
from portal.services.submission_views import Filters
from portal.web.api import openapi
from portal.web.api.bearer import agency_endpoint
from portal.web.api.bodies import read_json
from portal.web.downloads import attachment, pdf_attachment

MAX_JSON_BYTES = 8 * 1024
OBJECTION_ANSWER_FIELDS: dict[str, Any] = {
    "type": "object", "required": ["outcome", "text", "answered_at", "corrected_version"],
    "properties": {"outcome": {"enum": [o.value for o in Outcome]}, "text": {"type": "string"},
                   "answered_at": {"type": "string", "format": "date-time"},
                   "corrected_version": {"type": ["integer", "null"]}},
}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"oneOf": [_TIME, {"type": "null"}]}

SUBMISSION = openapi.Schema("Submission", {
    "type": "object",
    "required": ["submission_id", "kind", "case_code", "agency_case_number", "party", "submitted_by",
                 "submitted_at", "notice_seq", "window", "content", "content_sha256", "event_hash",
                 "attachments", "receipt", "acknowledged_at", "subject", "answer"],
    "properties": {
        "submission_id": {"type": "string"},
        "kind": {"enum": [kind.value for kind in SubmissionKind],
                 "description": "statement (陈述、申辩), hearing_request (听证申请), recusal (回避申请), "
                                "payment_plan (暂缓或分期缴纳, APL art. 66), waiver (放弃陈述、申辩), "
                                "objection (数据异议, GD art. 49: answer it with "
                                "`POST /api/v1/objections/{id}/answer`)."},
        "case_code": {"type": ["string", "null"],
                      "description": "Null only for an objection to a published item."},
        "agency_case_number": {"type": "string",
                               "description": "The case's, or the published item's."},
        "party": {"type": "object", "required": ["kind", "name"],
                  "properties": {"kind": {"enum": ["person", "organisation"]}, "name": {"type": "string"},
                                 "id_number": {"type": "string"}, "credit_code": {"type": "string"}}},
        "submitted_by": {"type": "object", "required": ["name", "on_behalf"],
                         "properties": {"name": {"type": "string"}, "on_behalf": {"type": "boolean"}}},
        "submitted_at": {**_TIME, "description": "When the portal received it (the legal instant)."},
        "notice_seq": {"type": ["integer", "null"],
                       "description": "The case event (prior notice) it answers, if it answers one."},
        "window": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["kind", "last_day"],
            "properties": {"kind": {"type": "string"}, "last_day": {"type": "string", "format": "date"},
                           "timeliness": {"enum": ["in_time", "late", "pending_arrangement", None],
                                          "description": "By the window as counted now: "
                                          "`pending_arrangement` while it depends on a year whose "
                                          "holiday arrangement is not loaded (the act was accepted "
                                          "and is settled when it is)."}}}],
            "description": "The party's window it fell in, as it stood then."},
        "content": {"type": "object", "description": "What the party wrote, by kind: `text`; "
                    "`reason`, `agents`; `target`, `name`, `credential_number`, `reason`; `plan`, "
                    "`defer_until`, `instalments`, `reasons`, `plan_detail`; `waived`, `confirmed`; "
                    "`details`, `correction`, `subject`."},
        "content_sha256": {"type": "string"}, "event_hash": {"type": "string"},
        "attachments": {"type": "array", "items": {
            "type": "object", "required": ["position", "name", "media_type", "size", "sha256", "url"],
            "properties": {"position": {"type": "integer"}, "name": {"type": "string"},
                           "media_type": {"enum": ["application/pdf", "image/jpeg", "image/png"]},
                           "size": {"type": "integer"}, "sha256": {"type": "string"},
                           "url": {"type": "string"}}}},
        "receipt": {"type": "object", "required": ["status", "url"],
                    "properties": {"status": {"enum": ["pending", "issued"]}, "url": {"type": "string"}}},
        "acknowledged_at": _NULLABLE_TIME,
        "subject": {"oneOf": [{"type": "null"}, {
            "type": "object",
            "required": ["kind", "delivery_id", "document_title", "publication_id", "publication_version"],
            "properties": {"kind": {"enum": ["case", "delivery", "publication"]},
                           "delivery_id": {"type": ["string", "null"]},
                           "document_title": {"type": ["string", "null"]},
                           "publication_id": {"type": ["integer", "null"]},
                           "publication_version": {"type": ["integer", "null"]}}}],
            "description": "What an objection is about: the case's record, a document served "
                           "(its delivery), or a published item (the version the party read)."},
        "answer": {"oneOf": [{"type": "null"}, OBJECTION_ANSWER_FIELDS],
                   "description": "The agency's answer to an objection, once given."},
    },
})
SUBMISSION_LIST = openapi.Schema("SubmissionList", {
    "type": "object", "required": ["submissions", "next_after"],
    "properties": {"submissions": {"type": "array", "items": SUBMISSION.ref()},
                   "next_after": {"type": ["string", "null"],
                                  "description": "Pass as `after` for the next page; null at the end."}},
}, uses=(SUBMISSION,))
ACKNOWLEDGEMENT = openapi.Schema("SubmissionAcknowledgement", {
    "type": "object", "required": ["submission_id", "acknowledged_at"],
    "properties": {"submission_id": {"type": "string"}, "acknowledged_at": _TIME},
})
WEBHOOK = openapi.Schema("Webhook", {
    "type": "object", "required": ["url", "registered_at"],
    "properties": {"url": {"type": "string"}, "registered_at": _TIME},
})
WEBHOOK_REGISTERED = openapi.Schema("WebhookRegistered", {
    "type": "object", "required": ["url", "registered_at", "secret", "signature_header"],
    "properties": {"url": {"type": "string"}, "registered_at": _TIME,
                   "secret": {"type": "string", "description": "Shown this once; keep it secret."},
                   "signature_header": {"type": "string"}},
})
NEW_WEBHOOK = openapi.Schema("NewWebhook", {
    "type": "object", "required": ["url"], "additionalProperties": False,
    "properties": {"url": {"type": "string", "maxLength": webhooks.MAX_URL_LENGTH,
                           "description": "https://…; http://127.0.0.1… only in development mode."}},
})
PDF = openapi.Schema("PdfDocument", {"type": "string", "format": "binary"})
FILE = openapi.Schema("AttachedFile", {"type": "string", "format": "binary"})
SUBMISSION_ID = openapi.PathParameter("submission_id", "The submission id.")
POSITION = openapi.PathParameter("position", "The attachment's position (1, 2, …).")
_NOT_FOUND = openapi.problem("No such submission for this agency (`not_found`).")
WEBHOOK_PROCEDURE = (
    "Each new submission is POSTed to the URL as JSON `{\"event\": \"submission.created\", "
    "\"delivery_id\": …, \"submission\": <Submission>}` with the headers `X-Portal-Event`, "
    "`X-Portal-Delivery-Id` and `X-Portal-Signature: t=<unix seconds>,v1=<hex>`. To verify: "
    "(1) compute HMAC-SHA256 with the secret (UTF-8) as key over the ASCII timestamp `t`, a "
    "full stop and the raw body bytes, and compare it in constant time with `v1` (any `v1` may "
    "match); (2) refuse a `t` more than 300 seconds from your clock; (3) look up the signed "
    "`delivery_id` from the body (it equals the header) among ids already processed: a known id "
    "is a retry or a replay, answer 2xx and do nothing; (4) answer 2xx once stored. Anything "
    "else, or no answer within 10 s, is retried after a random pause of at most 5 s, doubling "
    "with each failure up to 30 min, until a 2xx; every retry carries the same delivery id and "
    "a fresh `t`. "
    "Registering again replaces the URL and the secret. A reference verifier: `portal/webhooks.py`."
)


def _filters(request: Request) -> Filters:
    read = fields.Reader(request.query_params)
    status = read.choice("status", submission_views.STATUSES, required=False) or "new"
    kind = read.choice("kind", list(SubmissionKind), required=False)
    since = read.instant("since", earliest=fields.EARLIEST_INSTANT, latest=fields.LATEST_INSTANT,
                         required=False)
    raw_limit = request.query_params.get("limit", "50")
    limit = int(raw_limit) if raw_limit.isascii() and raw_limit.isdigit() else 0
    if not 1 <= limit <= submission_views.MAX_PAGE:
        read.errors["limit"] = "out_of_range"
    case_code = read.text("case_code", limit=40, required=False)
    after = read.text("after", limit=64, required=False)
    read.raise_errors()
    return Filters(status, case_code, kind, since, after, limit)


@openapi.operation(
    "get", summary="Submissions of the agency's cases", security="agency",
    description="Statements, hearing and recusal requests, payment-plan applications and waivers "
                "parties filed in the agency's cases, oldest first. Query: `status` = `new` (not yet "
                "acknowledged, the default), `acknowledged` or `all`; `case_code`; `kind`; `since` "
                "(RFC 3339 with offset); `limit` (1–100, default 50); `after` (the `next_after` of "
                "the previous page).",
    replies={200: openapi.Reply("A page of submissions.", SUBMISSION_LIST),
             422: openapi.problem("`validation_failed`: a query parameter is invalid.")},
)
@agency_endpoint
async def list_submissions(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    filters = _filters(request)
    found = await submission_views.agency_list(db, agency.agency_id, filters)
    next_after = found[-1].submission.public_id if len(found) == filters.limit else None
    return _json({"submissions": [view.to_json() for view in found], "next_after": next_after})


async def _view(db: AsyncSession, agency: AgencyPrincipal,
                request: Request) -> submission_views.SubmissionView:
    submission = await submission_views.for_agency(db, agency.agency_id,
                                                   request.path_params["submission_id"])
    return await submission_views.view(db, submission)


@openapi.operation(
    "get", summary="A submission", security="agency", parameters=(SUBMISSION_ID,),
    description="The submission with its content, attachments (as links), receipt state and "
                "acknowledgement.",
    replies={200: openapi.Reply("The submission.", SUBMISSION), 404: _NOT_FOUND},
)
@agency_endpoint
async def get_submission(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    return _json((await _view(db, agency, request)).to_json())


@openapi.operation(
    "get", summary="An attached file", security="agency", parameters=(SUBMISSION_ID, POSITION),
    description="The file as the party uploaded it, always as `application/octet-stream` and "
                "an attachment named `附件<position>.<ext>`; its real type (PDF, JPEG or PNG, "
                "checked by content) is `media_type` in the submission.",
    replies={200: openapi.Reply("The file.", FILE, "application/octet-stream"), 404: _NOT_FOUND},
)
@agency_endpoint
async def get_submission_attachment(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    view = await _view(db, agency, request)
    raw = request.path_params["position"]
    if not raw.isascii() or not raw.isdigit():
        raise NotFound()
    found = view.attachment(int(raw))
    data = await request.app.state.blobs.get(found.document_sha256)
    return attachment(data, internal_name(found.position, found.media_type), "application/octet-stream")


@openapi.operation(
    "get", summary="The party's submission receipt", security="agency", parameters=(SUBMISSION_ID,),
    description="The 提交回执 the party received: PDF sealed and timestamped by the portal. 409 "
                "`submission_receipt_pending` (with Retry-After) until it is issued.",
    replies={200: openapi.Reply("The receipt.", PDF, "application/pdf"), 404: _NOT_FOUND,
             409: openapi.problem("Not issued yet.", **{"Retry-After": "seconds"})},
)
@agency_endpoint
async def get_submission_receipt(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    view = await _view(db, agency, request)
    if view.receipt is None:
        raise submissions.ReceiptPending()
    data = await request.app.state.blobs.get(view.receipt.document_sha256)
    return pdf_attachment(data, RIGHTS["receipt.file_name"].format(
        case=view.reference, number=view.submission.public_id))


@openapi.operation(
    "post", summary="Acknowledge a submission", security="agency", parameters=(SUBMISSION_ID,),
    description="Records, once, that the agency has the submission (an event in the case's "
                "evidence chain; the party sees it). Asking again answers the first time. Ends "
                "any webhook retries for it.",
    replies={200: openapi.Reply("Acknowledged.", ACKNOWLEDGEMENT), 404: _NOT_FOUND},
)
@agency_endpoint
async def acknowledge_submission(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    submission = await submission_views.for_agency(db, agency.agency_id,
                                                   request.path_params["submission_id"])
    done = await submissions.acknowledge(db, submission, agency.actor)
    return _json({"submission_id": submission.public_id,
                  "acknowledged_at": instant_text(done.acknowledged_at)})


@openapi.operation(
    "put", summary="Register the webhook", security="agency",
    description="Sets the URL new submissions are POSTed to and returns a new signing secret, "
                "once. " + WEBHOOK_PROCEDURE,
    body=openapi.Body(NEW_WEBHOOK),
    replies={200: openapi.Reply("Registered.", WEBHOOK_REGISTERED),
             413: openapi.problem("The body is larger than 8 KiB."),
             415: openapi.problem("The body is not application/json."),
             422: openapi.problem("`webhook_url_invalid`: not https to an outside address "
                                  "(http://127.0.0.1 only in development mode).")},
)
@agency_endpoint
async def put_webhook(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    body = await read_json(request, MAX_JSON_BYTES)
    url = body.get("url") if isinstance(body, dict) else None
    settings = request.app.state.settings
    registered = await webhooks.register(db, agency.agency_id, url, secret_key=settings.secret_key,
                                         development=settings.development)
    return _json({"url": registered.url, "registered_at": instant_text(registered.registered_at),
                  "secret": registered.secret, "signature_header": signing_rules.SIGNATURE_HEADER})


@openapi.operation(
    "get", summary="The registered webhook", security="agency",
    description="The URL and when it was registered (the secret is never shown again).",
    replies={200: openapi.Reply("The webhook.", WEBHOOK),
             404: openapi.problem("No webhook registered (`not_found`).")},
)
@agency_endpoint
async def get_webhook(request: Request, db: AsyncSession, agency: AgencyPrincipal) -> Response:
    registered = await webhooks.registration(db, agency.agency_id)
    if registered is None:
        raise NotFound()
    return _json({"url": registered.url, "registered_at": instant_text(registered.registered_at)})


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"cache-control": "no-store"})
