"""``POST /api/v1/payments/callbacks/{platform}``: where payment platforms report payments.

Public (no bearer token): the platform's signature over the exact body authenticates the
message, and nothing else is trusted. In order:

1. `payments.verify_callback`: the adapter named in the path checks the signature and the
   ±300 s timestamp window and parses the notice. What fails here is recorded as a security
   event (reason code, client key, SHA-256 of the body; never the body) and answered "retry"
   in the platform's protocol: a genuine message re-signed later may still pass.
2. ``services.payment_callbacks.handle_notice`` in one transaction: nonce and notification id
   never seen, order and payment code known, amount equal to the amount due on the China date
   of ``paid_at``, the transition table; see that module.
3. The adapter's ``callback_ack``: "stop" for what was applied, was a duplicate, or cannot be
   fixed by retrying; "retry" otherwise. Where a protocol says "retry" with a 5xx status (the
   sandbox's), the status becomes the 4xx that names whose fault it is (401 signature or
   timestamp, 409 replayed, 422 not ours) with the protocol's body: every platform retries on
   anything but its "stop" answer, and a 5xx stays reserved for errors on our side (the
   database restarting), which every platform retries too.

The page a party returns to from the platform never marks anything paid; only this endpoint
does (``web.pages.fines``).
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

import payments
from portal.database import transaction
from portal.errors import NotFound
from portal.payment_platforms import PaymentPlatforms
from portal.services import payment_callbacks, rate_limits
from portal.web.api import openapi
from portal.web.client import client_address
from portal.web.clock import request_now

PLATFORM = openapi.PathParameter("platform", "The platform's name: `sandbox` or `nontax`.")
NOTICE = openapi.Schema("PaymentNotice", {
    "type": "object",
    "description": "The platform's notification, signed over the exact body bytes. The sandbox "
                   'platform sends JSON `{"notification_id": …, "order": {…}}` with the '
                   "X-Sandbox-Timestamp/-Nonce/-Signature headers; the non-tax platform sends a "
                   "form-encoded body carrying its own `sign` field.",
})
ACK = openapi.Schema("PaymentNoticeAck", {
    "type": "object", "required": ["code"],
    "description": "The answer in the platform's protocol (the non-tax platform gets plain text "
                   "`success` or `fail`).",
    "properties": {"code": {"enum": ["SUCCESS", "FAIL"]}, "message": {"type": "string"}},
})
REFUSALS_RECORDED = rate_limits.Limit("payment_refusals", requests=60, window_seconds=60)


@openapi.operation(
    "post", summary="A payment platform's signed notification", security="public", tag="payments",
    parameters=(PLATFORM,), body=openapi.Body(NOTICE),
    description="Called by the payment platform, not by agencies. Refused notices (bad "
                "signature, timestamp outside ±300 s, replayed nonce, unknown order or payment "
                "code, amount different from the amount due on the payment date, a transition "
                "the state machine does not allow) are recorded as security events and change "
                "nothing.",
    replies={
        200: openapi.Reply("Handled (applied, duplicate, or refused for good): stop sending.", ACK),
        401: openapi.Reply("Bad signature or timestamp outside ±300 s: refused, retry with a "
                           "fresh signature.", ACK),
        404: openapi.problem("No such platform is configured (`not_found`)."),
        409: openapi.Reply("This exact signed request was seen before (replayed nonce).", ACK),
        422: openapi.Reply("Not a notice about an order of ours (unknown order or payment "
                           "code, malformed): refused, the platform may retry.", ACK),
        500: openapi.Reply("Not handled now (an error on our side): send it again later.", ACK),
    },
)
async def receive(request: Request) -> Response:
    platforms: PaymentPlatforms = request.app.state.payments
    name = request.path_params["platform"]
    body = await request.body()
    now = request_now(request)
    digest = hashlib.sha256(body).hexdigest()
    client = rate_limits.client_key(request.app.state.settings.secret_key, client_address(request))
    verified = payments.verify_callback(platforms.adapters, name, dict(request.headers), body, now)
    adapter = platforms.adapters.get(name)
    if isinstance(verified, payments.Refuse):
        # anyone can post here: past REFUSALS_RECORDED a minute, an address's refusals are
        # answered alike but no longer written (the table stays bounded). Counted on its own
        # (``hit_alone``): ``hit`` would make the record's commit skip the wait for the disk
        # too, and a security event, once answered, is not to be forgotten by a crash.
        if (await rate_limits.hit_alone(request.app.state.engine, REFUSALS_RECORDED, client)).allowed:
            async with transaction(request.app.state.sessions) as db:
                await payment_callbacks.record_refusal(
                    db, platform=name[:40], reason=verified.reason.value,
                    detail=verified.detail or verified.reason.text, body_sha256=digest, now=now,
                    client_key=client)
        if adapter is None:
            raise NotFound()
        return _answer(adapter.callback_ack(False), verified.reason)
    if adapter is None:
        raise RuntimeError("a verified notice comes from a configured platform")
    async with transaction(request.app.state.sessions) as db:
        decision = await payment_callbacks.handle_notice(db, verified, body_sha256=digest, now=now,
                                                         renderer=request.app.state.renderer,
                                                         client_key=client)
    reason = decision.reason if isinstance(decision, payments.Refuse) else None
    return _answer(adapter.callback_ack(decision.ack), reason)


_REFUSED_STATUS = {
    payments.RefuseReason.BAD_SIGNATURE: 401, payments.RefuseReason.STALE_TIMESTAMP: 401,
    payments.RefuseReason.REPLAYED: 409,
}


def _answer(ack: payments.CallbackAck, refused: payments.RefuseReason | None) -> Response:
    status = ack.status_code
    if status >= 500 and refused is not None:
        status = _REFUSED_STATUS.get(refused, 422)
    response = Response(ack.body, status_code=status)
    for name, value in ack.headers:
        response.headers[name] = value
    response.headers["cache-control"] = "no-store"
    return response
