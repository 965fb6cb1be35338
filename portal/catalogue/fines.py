"""Fines, payments and fiscal e-receipts: the portal's own words (the sentences in receipts and
quotes come from ``payments.catalogue``).
"""

from __future__ import annotations

PAYMENTS: dict[str, str] = {
    "seal_reason": "财政电子票据",
    "receipt_name": "财政电子票据_{code}_{number}.{extension}",
    "reversal_name": "财政电子票据（红冲）_{code}_{number}.{extension}",
}
