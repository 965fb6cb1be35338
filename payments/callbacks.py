"""Deciding what a payment platform's callback means: the pure parts of the pipeline.

The portal handles a callback in this order:

1. `verify_callback` picks the adapter by platform name; the adapter checks the signature
   (with the helpers below: `verify_ed25519`, `verify_rsa_sha256`), the timestamp window
   (`check_timestamp`, ±300 s) and parses a `CallbackNotice`. Failures come back as `Refuse`.
2. In one transaction the portal records the delivery's nonce under a unique key
   (``nonce_seen`` if it was there), finds the order by its id, whether the notification id was
   already *applied* (``notification_seen``), and what it holds about the fine (`FineOnFile`:
   its terms, the payments recorded on it, when and on which day's quote the order was made).
3. `decide_notice` works out from these which payment already settled what the order collects
   and the amount due on the China date of ``paid_at`` (excluding this payment), and
   `check_notice` returns `Accept`, `Duplicate` or `Refuse`; the portal applies an `Accept`
   (state change from `payments.states`, payment row, receipt), records money that a refusal
   says was received, logs every refusal, and answers with the adapter's ``callback_ack(ack)``.

``ack`` follows what the platform's protocol expects: ``True`` tells it to stop sending
(the notice was applied, was a duplicate, or retrying cannot change the outcome);
``False`` asks it to retry (the message may be fixed by a fresh signature or a later state of
ours). Every refusal has a stable `RefuseReason` code for logs and the API.

Double payment: a successful payment with a serial different from the one that already settled
the fine is accepted with ``refund_required`` — recorded, acknowledged, and flagged so the
portal starts a refund (and a red-letter receipt if one was issued for it). What an order
collects is the fine, or under an instalment plan the instalments its day's quote asked for:
paid meanwhile through another order, a payment on it is a second one (refunded), not an
advance on the next instalment. A payment whose serial is already on file (reported again by
another order's notice) is a duplicate.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from payments.amount_due import Payment, Quote, Terms
from payments.catalogue import REFUSAL
from payments.errors import (
    BadSignature,
    IllegalTransition,
    MalformedMessage,
    StaleTimestamp,
    UntrustedMessage,
)
from payments.platforms.base import EVENT_FOR_STATUS, CallbackNotice, PaymentPlatform, PlatformStatus
from payments.states import OrderEvent, OrderState, transition

__all__ = [
    "TIMESTAMP_WINDOW",
    "Accept",
    "Decision",
    "Duplicate",
    "FineOnFile",
    "OrderSnapshot",
    "PaymentOnFile",
    "Refuse",
    "RefuseReason",
    "check_nonce",
    "check_notice",
    "check_timestamp",
    "decide_notice",
    "verify_callback",
    "verify_ed25519",
    "verify_rsa_sha256",
]

TIMESTAMP_WINDOW = timedelta(seconds=300)


class RefuseReason(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    MALFORMED = "malformed"
    REPLAYED = "replayed"
    UNKNOWN_PLATFORM = "unknown_platform"
    PLATFORM_MISMATCH = "platform_mismatch"
    UNKNOWN_PAYMENT_CODE = "unknown_payment_code"
    AMOUNT_MISMATCH = "amount_mismatch"
    ILLEGAL_TRANSITION = "illegal_transition"

    @property
    def text(self) -> str:
        """The reason in Chinese, for an operator's screen."""
        return REFUSAL[self.value]


# Retrying cannot change these outcomes, so the platform is told to stop.
_ACK_REFUSALS = frozenset({RefuseReason.AMOUNT_MISMATCH, RefuseReason.ILLEGAL_TRANSITION})


@dataclass(frozen=True)
class OrderSnapshot:
    """What the portal holds about the order a notice names."""

    platform: str
    order_id: str
    payment_code: str
    amount_fen: int
    state: OrderState
    platform_serial: str | None = None
    """The serial of the payment already recorded on this order, if any."""


@dataclass(frozen=True)
class Accept:
    """Apply the notice: move the order to ``state`` (``changed`` False: it is already there)."""

    notice: CallbackNotice
    event: OrderEvent
    state: OrderState
    changed: bool = True
    refund_required: bool = False
    ack: bool = True


@dataclass(frozen=True)
class Duplicate:
    """Already applied: answer "received", change nothing. ``why`` names the rule that matched."""

    notice: CallbackNotice
    why: str
    ack: bool = True


@dataclass(frozen=True)
class Refuse:
    """Do not apply. ``money_received``: the authentic notice reports money taken that the portal
    must record as unapplied, for a refund or a person's review."""

    reason: RefuseReason
    ack: bool
    money_received: bool = False
    detail: str = ""


Decision = Accept | Duplicate | Refuse


def check_timestamp(signed_at: datetime, now: datetime, window: timedelta = TIMESTAMP_WINDOW) -> None:
    """Raise `StaleTimestamp` unless ``signed_at`` is within ``window`` of ``now`` (inclusive)."""
    if signed_at.utcoffset() is None or now.utcoffset() is None:
        raise MalformedMessage("timestamps must be aware datetimes")
    if abs(signed_at - now) > window:
        raise StaleTimestamp(f"signed {int((now - signed_at).total_seconds())} s from our clock")


def check_nonce(nonce: str) -> str:
    """A nonce is 16 to 64 URL-safe characters; anything else is malformed."""
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    if not 16 <= len(nonce) <= 64 or not set(nonce) <= allowed:
        raise MalformedMessage("nonce must be 16-64 URL-safe characters")
    return nonce


def _b64(signature: str) -> bytes:
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("signature is not base64") from exc


def verify_ed25519(key: Ed25519PublicKey, message: bytes, signature_b64: str | None) -> None:
    """Raise `BadSignature` unless ``signature_b64`` is ``key``'s Ed25519 signature of ``message``."""
    if not signature_b64:
        raise BadSignature("signature missing")
    try:
        key.verify(_b64(signature_b64), message)
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify") from exc


def verify_rsa_sha256(key: RSAPublicKey, message: bytes, signature_b64: str | None) -> None:
    """Raise `BadSignature` unless it is an RSA PKCS#1 v1.5 SHA-256 signature by ``key``."""
    if not signature_b64:
        raise BadSignature("signature missing")
    try:
        key.verify(_b64(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify") from exc


def verify_callback(
    platforms: Mapping[str, PaymentPlatform],
    platform: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> CallbackNotice | Refuse:
    """Step 1: the verified notice, or a `Refuse` that asks the platform to retry."""
    adapter = platforms.get(platform)
    if adapter is None:
        return Refuse(RefuseReason.UNKNOWN_PLATFORM, ack=False)
    try:
        return adapter.parse_and_verify_callback(headers, body, now)
    except UntrustedMessage as exc:
        return Refuse(RefuseReason(exc.reason), ack=False, detail=exc.detail)


def _refuse(reason: RefuseReason, notice: CallbackNotice, detail: str = "") -> Refuse:
    ack = reason in _ACK_REFUSALS
    money = ack and notice.status is PlatformStatus.SUCCESS
    return Refuse(reason, ack=ack, money_received=money, detail=detail)


def check_notice(
    notice: CallbackNotice,
    *,
    order: OrderSnapshot | None,
    amount_due_fen: int,
    nonce_seen: bool,
    notification_seen: bool,
    fine_settled_by: str | None,
) -> Decision:
    """Step 3: what to do with a verified notice, given what the portal knows.

    ``order`` is the portal's order named by the notice (None if there is none);
    ``amount_due_fen`` the amount due on the China date of ``notice.paid_at`` without this
    payment (used for successful payments only); ``fine_settled_by`` the serial of an earlier
    payment that already settled what this order collects (the fine, or the instalments the
    order was created for), if any. A payment serial already recorded on the order counts too.
    """
    if nonce_seen:
        return _refuse(RefuseReason.REPLAYED, notice)
    if notification_seen:
        return Duplicate(notice, "notification_seen")
    if order is None or (order.order_id, order.payment_code) != (notice.order_id, notice.payment_code):
        return _refuse(RefuseReason.UNKNOWN_PAYMENT_CODE, notice)
    if order.platform != notice.platform:
        return _refuse(RefuseReason.PLATFORM_MISMATCH, notice)

    event = EVENT_FOR_STATUS[notice.status]
    if notice.status is PlatformStatus.SUCCESS:
        earlier = {order.platform_serial, fine_settled_by} - {None}
        if notice.platform_serial in earlier:
            return Duplicate(notice, "same_serial")
        if earlier:
            # A second, different payment for what is already paid: keep it, refund it.
            try:
                moved = transition(order.state, event)
                state, changed = moved.state, moved.changed
            except IllegalTransition:
                state, changed = order.state, False
            return Accept(notice, event, state, changed=changed, refund_required=True)
        if notice.amount_fen != order.amount_fen or notice.amount_fen != amount_due_fen:
            return _refuse(
                RefuseReason.AMOUNT_MISMATCH, notice, "amount differs from the amount due that day"
            )
    try:
        moved = transition(order.state, event)
    except IllegalTransition as exc:
        return _refuse(RefuseReason.ILLEGAL_TRANSITION, notice, str(exc))
    if not moved.changed:
        return Duplicate(notice, "repeated_status")
    return Accept(notice, event, moved.state)


@dataclass(frozen=True)
class PaymentOnFile:
    """A payment the portal recorded on the fine: applied to it, or kept aside for a refund."""

    serial: str
    paid_on: date
    amount_fen: int
    applied: bool
    recorded_at: datetime


@dataclass(frozen=True)
class FineOnFile:
    """What the portal holds about the fine that the notice's order collects for."""

    terms: Terms
    payments: tuple[PaymentOnFile, ...]
    """In the order they were recorded."""
    order_made_at: datetime
    """When the order was made: the payments recorded by then are those its quote counted."""
    order_quote_date: date
    """The China date of the quote the order was made to collect."""

    def quote(self, on: date, *, excluding: str | None, recorded_by: datetime | None = None) -> Quote:
        """The quote on ``on`` counting the money applied (but the payment ``excluding``), or
        only what was recorded by ``recorded_by``."""
        return self.terms.quote(on, [
            Payment(p.paid_on, p.amount_fen) for p in self.payments
            if p.applied and p.serial != excluding and (recorded_by is None or p.recorded_at <= recorded_by)])


def _settled_by(fine: FineOnFile, paid_on: date, serial: str | None) -> str | None:
    """The serial of the last other payment applied, if by it (as of this payment's day, or
    its own if later) what the order collects was already paid."""
    applied = [p for p in fine.payments if p.applied and p.serial != serial]
    if not applied:
        return None
    later = fine.quote(max(paid_on, applied[-1].paid_on), excluding=serial)
    asked = fine.quote(fine.order_quote_date, excluding=serial, recorded_by=fine.order_made_at)
    collects = asked.pay_now_lines
    if later.settled or (collects and all(not later.lines[n - 1].due_fen for n in collects)):
        return applied[-1].serial
    return None


def decide_notice(
    notice: CallbackNotice,
    *,
    order: OrderSnapshot | None,
    fine: FineOnFile | None,
    paid_on: date | None,
    nonce_seen: bool,
    notification_seen: bool,
) -> Decision:
    """Step 3 from what the portal gathered: `check_notice` with the amount due and the payment
    that settled what the order collects worked out from ``fine`` (see the module docstring).

    ``fine`` is None when there is no such order; ``paid_on`` is the China date of
    ``notice.paid_at`` (None without one: no amount is due and nothing settled).
    """
    serial = notice.platform_serial
    if fine is not None and serial and not nonce_seen and any(p.serial == serial for p in fine.payments):
        return Duplicate(notice, "serial_recorded")
    amount_due, settled_by = 0, None
    if fine is not None and paid_on is not None:
        amount_due = fine.quote(paid_on, excluding=serial).pay_now_fen
        settled_by = _settled_by(fine, paid_on, serial)
    return check_notice(notice, order=order, amount_due_fen=amount_due, nonce_seen=nonce_seen,
                        notification_seen=notification_seen, fine_settled_by=settled_by)
