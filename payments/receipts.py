"""Fiscal e-receipts (财政电子票据): the receipt value, numbering, check codes, reversals, JSON.

When a fine is fully paid the agency must issue a fiscal electronic receipt (FJ art. 20;
GD art. 32). A receipt is identified by its code (票据代码, 8 digits, assigned by the finance
department to the issuing unit and receipt type) and its number (票据号码, 10 digits, unique
and gap-free within the code). This module owns the rules; the portal allocates numbers from
a counter row locked with ``SELECT … FOR UPDATE`` in the issuing transaction (PostgreSQL
sequences leave gaps: PITFALLS.md), using `next_number` to compute the next one.

Check code (校验码, 6 characters): the first 30 bits of
``HMAC-SHA256(issuer secret, "code|number|total_fen|issue date")`` written with the 32 symbols
of `CHECK_ALPHABET` (digits and capitals without 0, 1, I and O, so it can be read aloud and
typed from paper). It is deterministic, so the verification page can recompute it from the
stored receipt, and a receipt with altered code, number, total or date no longer matches;
guessing one takes about 10^9 tries, which the page's rate limit makes hopeless.

A refund produces a red-letter reversal receipt (红冲): a new code/number of its own, the
original's code and number in ``original``, every item amount negated, so the two sum to zero.

`receipt_json` is the structured data embedded in the PDF (`payments.receipt_pdf`) and shown
by the verification page; `receipt_from_json` reads it back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from payments.catalogue import RECEIPT_ITEMS
from payments.errors import InvalidReceipt, ReceiptNumberExhausted
from payments.money import capital_yuan, check_fen, format_yuan

__all__ = [
    "CHECK_ALPHABET",
    "MAX_NUMBER",
    "SCHEMA",
    "Receipt",
    "ReceiptIssuer",
    "ReceiptItem",
    "ReceiptKind",
    "ReceiptRef",
    "check_code",
    "fine_items",
    "format_number",
    "next_number",
    "receipt_from_json",
    "receipt_json",
]

MAX_NUMBER = 9_999_999_999
CHECK_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SCHEMA = "payments.fiscal-receipt/1"
_CHINA = ZoneInfo("Asia/Shanghai")


def _digits(value: object, length: int, name: str) -> str:
    if not isinstance(value, str) or len(value) != length or not (value.isascii() and value.isdigit()):
        raise InvalidReceipt(f"{name} must be {length} ASCII digits")
    return value


def next_number(last: int | None) -> int:
    """The number after ``last`` (1 for the first receipt of a code)."""
    if last is None:
        return 1
    if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= MAX_NUMBER:
        raise InvalidReceipt("the last receipt number must be an int from 1 to 9999999999")
    if last == MAX_NUMBER:
        raise ReceiptNumberExhausted("receipt numbers of this code are used up")
    return last + 1


def format_number(number: int) -> str:
    """``42`` → ``"0000000042"``."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_NUMBER:
        raise InvalidReceipt("a receipt number is an int from 1 to 9999999999")
    return f"{number:010d}"


class ReceiptKind(StrEnum):
    NORMAL = "normal"
    REVERSAL = "reversal"


@dataclass(frozen=True)
class ReceiptItem:
    """One line: what was collected, and how much (negative on a reversal)."""

    name: str
    amount_fen: int

    def __post_init__(self) -> None:
        check_fen(self.amount_fen, negative=True)
        if not self.name.strip():
            raise InvalidReceipt("an item needs a name")

    @property
    def amount_yuan(self) -> str:
        return format_yuan(self.amount_fen)


@dataclass(frozen=True)
class ReceiptRef:
    """A receipt's identity: code and number."""

    code: str
    number: str

    def __post_init__(self) -> None:
        _digits(self.code, 8, "receipt code")
        _digits(self.number, 10, "receipt number")


def fine_items(principal_fen: int, surcharge_fen: int) -> tuple[ReceiptItem, ...]:
    """The items of a paid fine: the fine, and the surcharge when there was one."""
    items = [ReceiptItem(RECEIPT_ITEMS["fine"], check_fen(principal_fen))]
    if check_fen(surcharge_fen):
        items.append(ReceiptItem(RECEIPT_ITEMS["surcharge"], surcharge_fen))
    return tuple(items)


@dataclass(frozen=True)
class Receipt:
    """A fiscal e-receipt, normal or reversal; build it with `ReceiptIssuer`."""

    code: str
    number: str
    check_code: str
    issued_at: datetime
    payer_name: str
    payer_id: str
    items: tuple[ReceiptItem, ...]
    issuer: str
    platform_serial: str
    payment_code: str
    kind: ReceiptKind = ReceiptKind.NORMAL
    original: ReceiptRef | None = None

    def __post_init__(self) -> None:
        ReceiptRef(self.code, self.number)
        if len(self.check_code) != 6 or not set(self.check_code) <= set(CHECK_ALPHABET):
            raise InvalidReceipt("check code must be 6 characters of the check alphabet")
        if self.issued_at.utcoffset() is None:
            raise InvalidReceipt("issued_at must be an aware instant")
        if not self.items:
            raise InvalidReceipt("a receipt needs at least one item")
        if not all(
            s.strip() for s in (self.payer_name, self.issuer, self.platform_serial, self.payment_code)
        ):
            raise InvalidReceipt("payer, issuer, serial and payment code are required")
        reversal = self.kind is ReceiptKind.REVERSAL
        if reversal != (self.original is not None):
            raise InvalidReceipt("a reversal references its original, and only a reversal does")
        if any((item.amount_fen < 0) != reversal or item.amount_fen == 0 for item in self.items):
            raise InvalidReceipt("amounts are positive on a receipt and negative on a reversal")

    @property
    def ref(self) -> ReceiptRef:
        return ReceiptRef(self.code, self.number)

    @property
    def total_fen(self) -> int:
        return sum(item.amount_fen for item in self.items)

    @property
    def total_yuan(self) -> str:
        return format_yuan(self.total_fen)

    @property
    def total_capital(self) -> str:
        return capital_yuan(self.total_fen)

    @property
    def issued_at_china(self) -> datetime:
        return self.issued_at.astimezone(_CHINA)


def check_code(secret: bytes, code: str, number: str, total_fen: int, issued_at: datetime) -> str:
    """The 6-character check code; see the module docstring."""
    issue_date = issued_at.astimezone(_CHINA).date().isoformat()
    message = f"{code}|{number}|{total_fen}|{issue_date}".encode()
    bits = int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:4]) >> 2
    return "".join(CHECK_ALPHABET[(bits >> (5 * i)) & 31] for i in range(5, -1, -1))


@dataclass(frozen=True)
class ReceiptIssuer:
    """An issuing unit: its receipt code, its name, and the secret behind its check codes."""

    code: str
    issuer: str
    secret: bytes

    def __post_init__(self) -> None:
        _digits(self.code, 8, "receipt code")
        if len(self.secret) < 16:
            raise InvalidReceipt("the check-code secret needs at least 16 bytes")

    def issue(
        self,
        number: int,
        *,
        issued_at: datetime,
        payer_name: str,
        payer_id: str,
        items: tuple[ReceiptItem, ...],
        platform_serial: str,
        payment_code: str,
    ) -> Receipt:
        """A receipt numbered ``number`` (allocated by the caller with `next_number`)."""
        text = format_number(number)
        total = sum(item.amount_fen for item in items)
        return Receipt(
            code=self.code,
            number=text,
            check_code=check_code(self.secret, self.code, text, total, issued_at),
            issued_at=issued_at.astimezone(UTC),
            payer_name=payer_name,
            payer_id=payer_id,
            items=items,
            issuer=self.issuer,
            platform_serial=platform_serial,
            payment_code=payment_code,
        )

    def reverse(
        self, original: Receipt, number: int, *, issued_at: datetime, refund_serial: str | None = None
    ) -> Receipt:
        """The red-letter receipt cancelling ``original`` in full."""
        if original.kind is ReceiptKind.REVERSAL:
            raise InvalidReceipt("a reversal cannot itself be reversed")
        text = format_number(number)
        items = tuple(ReceiptItem(item.name, -item.amount_fen) for item in original.items)
        return Receipt(
            code=self.code,
            number=text,
            check_code=check_code(self.secret, self.code, text, -original.total_fen, issued_at),
            issued_at=issued_at.astimezone(UTC),
            payer_name=original.payer_name,
            payer_id=original.payer_id,
            items=items,
            issuer=self.issuer,
            platform_serial=refund_serial or original.platform_serial,
            payment_code=original.payment_code,
            kind=ReceiptKind.REVERSAL,
            original=original.ref,
        )

    def verifies(self, receipt: Receipt) -> bool:
        """Whether ``receipt``'s check code is the one this issuer would compute."""
        expected = check_code(self.secret, receipt.code, receipt.number, receipt.total_fen, receipt.issued_at)
        return receipt.code == self.code and hmac.compare_digest(expected, receipt.check_code)


def receipt_json(receipt: Receipt) -> bytes:
    """The receipt's structured data: UTF-8 JSON, keys sorted, amounts in fen."""
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": receipt.kind.value,
        "code": receipt.code,
        "number": receipt.number,
        "check_code": receipt.check_code,
        "issued_at": receipt.issued_at.astimezone(UTC).isoformat(),
        "payer_name": receipt.payer_name,
        "payer_id": receipt.payer_id,
        "items": [{"name": i.name, "amount_fen": i.amount_fen} for i in receipt.items],
        "total_fen": receipt.total_fen,
        "total_yuan": receipt.total_yuan,
        "total_capital": receipt.total_capital,
        "issuer": receipt.issuer,
        "platform_serial": receipt.platform_serial,
        "payment_code": receipt.payment_code,
        "original": {"code": receipt.original.code, "number": receipt.original.number}
        if receipt.original
        else None,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode()


def receipt_from_json(raw: bytes) -> Receipt:
    """Read `receipt_json` output back; raise `InvalidReceipt` if it is not one."""
    try:
        data = json.loads(raw)
        if data.get("schema") != SCHEMA:
            raise InvalidReceipt("not a fiscal receipt document")
        original = data["original"]
        receipt = Receipt(
            code=data["code"],
            number=data["number"],
            check_code=data["check_code"],
            issued_at=datetime.fromisoformat(data["issued_at"]),
            payer_name=data["payer_name"],
            payer_id=data["payer_id"],
            items=tuple(ReceiptItem(i["name"], i["amount_fen"]) for i in data["items"]),
            issuer=data["issuer"],
            platform_serial=data["platform_serial"],
            payment_code=data["payment_code"],
            kind=ReceiptKind(data["kind"]),
            original=ReceiptRef(original["code"], original["number"]) if original else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidReceipt(f"malformed receipt data: {exc}") from exc
    if receipt.total_fen != data["total_fen"]:
        raise InvalidReceipt("total does not match the items")
    return receipt
