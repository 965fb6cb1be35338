"""The JSON of fines, payments, receipts and reconciliations in the agency API, with the
schemas the OpenAPI document publishes for them, side by side so they cannot drift apart.

Amounts are integer fen; instants RFC 3339 in UTC; legal dates ``YYYY-MM-DD`` (China dates).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from portal.services.fine_views import FineView, InstalmentView, PaymentView, ReceiptView
from portal.services.fiscal_receipts import verify_url
from portal.services.reconciliations import AgencyReconciliation
from portal.web.api import openapi

_TIME = {"type": "string", "format": "date-time"}
_DATE = {"type": "string", "format": "date"}
_FEN = {"type": "integer", "description": "An amount in fen (0.01 yuan)."}
_TEXT = {"type": "string", "minLength": 1}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties, **extra}


NEW_FINE_FIELDS = ("decision_number", "amount_fen", "collecting_account", "surcharge_applies",
                   "delivery_id", "served_on", "case_code", "party")
NEW_FINE = openapi.Schema("NewFine", {
    "type": "object", "additionalProperties": False,
    "required": ["decision_number", "amount_fen", "collecting_account"],
    "description": "Either `delivery_id` (a decision served through the portal), or `served_on` "
                   "with `case_code` and `party` (served otherwise, on the date stated).",
    "properties": {
        "decision_number": {**_TEXT, "maxLength": 100, "description": "The decision's number (文号)."},
        "amount_fen": {**_FEN, "minimum": 1},
        "collecting_account": {**_TEXT, "maxLength": 200,
                               "description": "The account that collects the fine (执收账户)."},
        "surcharge_applies": {"type": "boolean", "default": True,
                              "description": "Whether the 3% daily surcharge applies when late "
                                             "(APL art. 72); the decision told the party so."},
        "delivery_id": {"type": "string", "description": "A 行政处罚决定书 this agency delivered."},
        "served_on": {**_DATE, "description": "The China date the decision was served otherwise."},
        "case_code": {"type": "string"},
        "party": {"type": "object", "description": '{"id_number": "…"} or {"credit_code": "…"}',
                  "properties": {"id_number": {"type": "string"}, "credit_code": {"type": "string"}}},
    },
})
NEW_REFUND = openapi.Schema("NewRefund", {
    "type": "object", "required": ["platform_serial", "refund_serial", "reason"],
    "properties": {"platform_serial": {**_TEXT, "maxLength": 64,
                                       "description": "The refunded payment's serial."},
                   "refund_serial": {**_TEXT, "maxLength": 64, "description": "The refund's serial."},
                   "reason": {**_TEXT, "maxLength": 500}},
})
_REF = _object({"code": {"type": "string"}, "number": {"type": "string"}})
PAYMENT = openapi.Schema("FinePayment", _object({
    "platform": {"type": "string"}, "platform_serial": {"type": "string"}, "amount_fen": _FEN,
    "principal_fen": _FEN, "surcharge_fen": _FEN, "paid_at": _TIME, "paid_on": _DATE,
    "status": {"enum": ["applied", "refund_required", "refunded"]},
    "reason": _nullable({"type": "string", "description": "Why money was not applied: "
                                                         "`double_payment`, `amount_mismatch`, …"}),
    "refund": _nullable(_object({"refund_serial": {"type": "string"}, "reason": {"type": "string"},
                                 "recorded_at": _TIME})),
}))
RECEIPT = openapi.Schema("FiscalReceipt", _object({
    "code": {"type": "string", "pattern": "^[0-9]{8}$"},
    "number": {"type": "string", "pattern": "^[0-9]{10}$"},
    "check_code": {"type": "string", "pattern": "^[0-9A-Z]{6}$"},
    "kind": {"enum": ["normal", "reversal"]}, "total_fen": _FEN, "issued_at": _TIME,
    "status": {"enum": ["issuing", "issued"], "description": "`issuing` until the sealed PDF is stored."},
    "original": _nullable(_REF), "reversed_by": _nullable(_REF),
    "verify_url": {"type": "string", "description": "The public verification page (the QR code)."},
}))
INSTALMENT = openapi.Schema("FineInstalment", _object({
    "number": {"type": "integer", "minimum": 1}, "due_date": _DATE, "amount_fen": _FEN,
    "principal_outstanding_fen": _FEN, "surcharge_fen": {**_FEN, "description": "Accrued so far, "
                                                         "capped at the instalment's amount."},
    "surcharge_days": {"type": "integer", "minimum": 0}, "due_fen": _FEN,
    "status": {"enum": ["paid", "due", "overdue"]},
    "in_amount_due_today": {"type": "boolean",
                            "description": "Part of `amount_due_today_fen`: every instalment due "
                                           "by today, else the next open one."},
}))
FINE = openapi.Schema("Fine", _object({
    "fine_id": {"type": "string"}, "case_code": {"type": "string"},
    "decision_number": {"type": "string"}, "amount_fen": _FEN,
    "collecting_account": {"type": "string"}, "surcharge_applies": {"type": "boolean"},
    "payment_code": {"type": "string", "pattern": "^[0-9]{20}$", "description": "缴款码"},
    "service": _object({"source": {"enum": ["delivery", "stated"]},
                        "delivery_id": _nullable({"type": "string"}),
                        "served_at": _nullable(_TIME), "served_on": _DATE}),
    "due_date": {**_DATE, "description": "The last day of the 15 days (APL art. 67), counted from "
                                         "the service with the holiday calendar loaded now."},
    "due_explanation": {"type": "string"},
    "due_date_on_fallback": {"type": "boolean",
                             "description": "The due date depends on a year whose holiday "
                                            "arrangement is not loaded: it is an estimate "
                                            "(`fallback_warning`) and no surcharge is charged "
                                            "before `surcharge_from_after`."},
    "surcharge_from_after": {**_DATE, "description": "The surcharge counts from the day after "
                                                     "this one (the due date once it is certain)."},
    "fallback_years": {"type": "array", "items": {"type": "integer"}},
    "fallback_warning": _nullable({"type": "string"}),
    "effective_due_date": {**_DATE, "description": "After an approved deferral (APL art. 66) its "
                                                   "date; under an instalment plan the due date of "
                                                   "the first instalment still open."},
    "instalments": _nullable({"type": "array", "items": INSTALMENT.ref(),
                              "description": "The approved instalment plan (APL art. 66, the case's "
                                             "`instalments_approved` event), as of today."}),
    "state": {"enum": ["unpaid", "overdue", "paid", "refunded"]},
    "today": _DATE, "amount_due_today_fen": _FEN, "surcharge_today_fen": _FEN,
    "surcharge_days": {"type": "integer", "minimum": 0},
    "quote_valid_until": {**_TIME, "description": "24:00 China time of `today`."},
    "quote_explanation": {"type": "string"},
    "refund_flags": {"type": "integer", "minimum": 0,
                     "description": "Payments waiting for a refund (e.g. a double payment)."},
    "payments": {"type": "array", "items": PAYMENT.ref()},
    "receipts": {"type": "array", "items": RECEIPT.ref()},
}), uses=(PAYMENT, RECEIPT, INSTALMENT))
_LINE = _object({"platform_serial": _nullable({"type": "string"}), "order_id": {"type": "string"},
                 "payment_code": {"type": "string"}, "amount_fen": _FEN, "paid_at": _TIME})
RECONCILIATION = openapi.Schema("Reconciliation", _object({
    "day": _DATE,
    "platforms": {"type": "array", "items": _object({
        "platform": {"type": "string"}, "ran_at": _TIME, "clean": {"type": "boolean"},
        "matched": {"type": "integer"},
        "missing_in_portal": {"type": "array", "items": _LINE},
        "missing_on_platform": {"type": "array", "items": _LINE},
        "amount_mismatches": {"type": "array", "items": _object({
            "statement": _LINE, "portal": _LINE, "difference_fen": {"type": "integer"}})},
    })},
}))


def _payment(view: PaymentView) -> dict[str, Any]:
    r = view.record
    return {"platform": r.platform, "platform_serial": r.platform_serial, "amount_fen": r.amount_fen,
            "principal_fen": r.principal_fen, "surcharge_fen": r.surcharge_fen,
            "paid_at": r.paid_at.isoformat(), "paid_on": r.paid_on.isoformat(), "status": view.status,
            "reason": r.reason,
            "refund": {"refund_serial": view.refund.refund_serial, "reason": view.refund.reason,
                       "recorded_at": view.refund.recorded_at.isoformat()} if view.refund else None}


def _instalment(view: InstalmentView) -> dict[str, Any]:
    line = view.line
    return {"number": line.number, "due_date": line.due_date.isoformat(),
            "amount_fen": line.principal_fen, "principal_outstanding_fen": line.principal_outstanding_fen,
            "surcharge_fen": line.surcharge_fen, "surcharge_days": line.surcharge_days,
            "due_fen": line.due_fen, "status": view.status, "in_amount_due_today": view.in_pay_now}


def receipt(view: ReceiptView, public_url: str) -> dict[str, Any]:
    r = view.row
    return {"code": r.code, "number": r.number, "check_code": r.check_code, "kind": r.kind,
            "total_fen": r.total_fen, "issued_at": r.issued_at.isoformat(),
            "status": "issued" if view.ready else "issuing",
            "original": {"code": view.original.code, "number": view.original.number}
            if view.original else None,
            "reversed_by": {"code": view.reversed_by.code, "number": view.reversed_by.number}
            if view.reversed_by else None,
            "verify_url": verify_url(public_url, r.code, r.number, r.check_code)}


def fine(view: FineView, public_url: str) -> dict[str, Any]:
    f, quote = view.fine, view.quote
    return {
        "fine_id": f.public_id, "case_code": view.case.code, "decision_number": f.decision_number,
        "amount_fen": f.amount_fen, "collecting_account": f.collecting_account,
        "surcharge_applies": f.surcharge_applies, "payment_code": f.payment_code,
        "service": {"source": "delivery" if f.delivery_id else "stated",
                    "delivery_id": view.delivery_public_id,
                    "served_at": f.served_at.isoformat() if f.served_at else None,
                    "served_on": f.served_on.isoformat()},
        "due_date": view.due.last_day.isoformat(), "due_explanation": view.due.explain(),
        "due_date_on_fallback": view.due.uses_fallback,
        "surcharge_from_after": view.due.latest_last_day.isoformat(),
        "fallback_years": list(view.due.fallback_years), "fallback_warning": view.fallback_warning,
        "effective_due_date": view.effective_due_date.isoformat(),
        "instalments": [_instalment(i) for i in view.instalments] if view.plan else None,
        "state": view.state,
        "today": view.today.isoformat(), "amount_due_today_fen": quote.pay_now_fen,
        "surcharge_today_fen": quote.surcharge_outstanding_fen, "surcharge_days": quote.surcharge_days,
        "quote_valid_until": quote.valid_until.isoformat(), "quote_explanation": quote.explanation,
        "refund_flags": view.refund_flags,
        "payments": [_payment(p) for p in view.payments],
        "receipts": [receipt(r, public_url) for r in view.receipts],
    }


def reconciliation(day: date, views: Sequence[AgencyReconciliation]) -> dict[str, Any]:
    return {"day": day.isoformat(), "platforms": [
        {"platform": v.platform, "ran_at": v.ran_at.isoformat(), "clean": v.clean, "matched": v.matched,
         "missing_in_portal": list(v.missing_in_portal),
         "missing_on_platform": list(v.missing_on_platform),
         "amount_mismatches": list(v.amount_mismatches)} for v in views]}
