"""Follow-up of a submission, after it committed: the sealed receipt and the agency's webhook.

* ``submission_receipt``: the 提交回执 rendered, sealed by the portal at PAdES B-LT (with its
  timestamp), stored, and a ``submission_receipt_issued`` event in the case's chain. The page
  that took the submission runs the same handler straight after its commit, so the party
  usually downloads the receipt from the confirmation page; the job is the safety net when
  that attempt failed (the TSA down, the process killed). Retried with back-off until done.
* ``submission_webhook``: the submission POSTed to the agency's registered URL, signed as
  ``portal.webhooks`` describes, with the delivery id fixed when the job was queued (so every
  retry carries the same id and the agency can drop duplicates). Anything but a 2xx answer
  within ``WEBHOOK_TIMEOUT`` is retried with back-off (``services.jobs.POLICY``); the job ends
  at the first 2xx, or once the agency has acknowledged the submission through the API. The
  name is resolved once per attempt and the POST connects to the address that was checked
  (``services.webhooks.destination``: no loopback outside development mode, no cloud metadata,
  no DNS rebinding).

Each handler is safe to run twice: the receipt is recorded once under the case's lock, and a
second POST of a delivery is what the agency's duplicate check is for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal import webhooks
from portal.blobstore import BlobStore
from portal.catalogue import RIGHTS
from portal.database import transaction, utcnow
from portal.documents.submission_receipt import render_submission_receipt
from portal.evidence_hash import canonical_json
from portal.models.rights import Submission
from portal.notary import Notary
from portal.outbound import tls_context
from portal.services import submission_views, submissions
from portal.services import webhooks as registrations
from portal.workers.jobs import JobKinds
from signing import SigningError

WEBHOOK_TIMEOUT = 10.0
EVENT = "submission.created"


class WebhookRefused(Exception):
    """The agency's endpoint did not answer 2xx (or not at all): retry later."""


@dataclass(frozen=True)
class SubmissionDeps:
    sessions: async_sessionmaker[AsyncSession]
    notary: Notary
    blobs: BlobStore
    secret_key: str
    http: Callable[[], httpx.AsyncClient] = field(
        default=lambda: httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False,
                                          verify=tls_context()))
    clock: Callable[[], float] = time.time
    resolve: registrations.Resolver = registrations.system_resolver
    development: bool = False
    """Development mode (``Settings.development``): a receiver on ``http://127.0.0.1``."""


async def issue_receipt(deps: SubmissionDeps, submission_id: int) -> bool:
    """Issue the receipt unless it exists; True if this call recorded it."""
    async with deps.sessions() as db:
        submission = await db.get(Submission, submission_id)
        if submission is None or await submissions.receipt_of(db, submission_id) is not None:
            return False
        view = await submission_views.view(db, submission)
    issued_at = utcnow()
    unsealed, placement = await asyncio.to_thread(render_submission_receipt, view, issued_at=issued_at)
    sealed = await deps.notary.seal(unsealed, placement, reason=RIGHTS["receipt.seal_reason"])
    digest = await deps.blobs.put(sealed)
    async with transaction(deps.sessions) as db:
        return await submissions.record_receipt(db, submission, digest, issued_at)


def webhook_body(delivery_id: str, view: submission_views.SubmissionView) -> bytes:
    return canonical_json({"event": EVENT, "delivery_id": delivery_id,
                           "submission": view.to_json()}).encode()


async def post_webhook(deps: SubmissionDeps, submission_id: int, delivery_id: str) -> None:
    """POST the submission to the agency's URL once; ``WebhookRefused`` unless 2xx."""
    async with deps.sessions() as db:
        submission = await db.get(Submission, submission_id)
        if submission is None:
            return
        view = await submission_views.view(db, submission)
        hook = await registrations.registration(db, submission.agency_id)
    if hook is None or view.acknowledgement is not None:
        return  # nowhere to post any more, or the agency already has it
    try:
        target = await registrations.destination(hook.url, development=deps.development,
                                                 resolve=deps.resolve)
    except registrations.DestinationRefused as exc:
        raise WebhookRefused(str(exc)) from None  # e.g. the name now points inside: not posted
    secret = registrations.decrypt_secret(deps.secret_key, hook.agency_id, hook.secret_encrypted)
    body = webhook_body(delivery_id, view)
    headers = {"content-type": "application/json", "host": target.host,
               webhooks.EVENT_HEADER: EVENT, webhooks.DELIVERY_HEADER: delivery_id,
               webhooks.SIGNATURE_HEADER: webhooks.signature_header(secret, int(deps.clock()), body)}
    try:
        async with deps.http() as client:
            response = await client.post(
                target.url, content=body, headers=headers,
                extensions={"sni_hostname": target.server_name} if target.server_name else None)
    except httpx.HTTPError as exc:
        raise WebhookRefused(type(exc).__name__) from exc
    if not 200 <= response.status_code < 300:
        raise WebhookRefused(f"HTTP {response.status_code}")


def _message(exc: Exception) -> str:
    """A postponed job's reason: ``WebhookRefused`` says what the agency answered ("HTTP 503")."""
    return str(exc) or type(exc).__name__


JOBS = JobKinds[SubmissionDeps](
    "submissions",
    {submissions.RECEIPT_JOB: lambda deps, job: issue_receipt(deps, job.subject_id),
     submissions.WEBHOOK_JOB: lambda deps, job: post_webhook(deps, job.subject_id,
                                                             str(job.payload["delivery_id"]))},
    retry_on=(WebhookRefused, SigningError, OSError),
    reason=_message,
)
"""Run by ``portal worker`` and ``portal run`` (``workers.runner``); a refused webhook, or
sealing or storing that fails, postpones a job."""
