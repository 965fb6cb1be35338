"""Micro-benchmark of the payments library's hot paths, with ratios between them.

Run with ``.venv/bin/python bench/payments_engine.py``. It prints per-call times of:

* ``amount_due`` for a plain fine 20 days late, and for a 12-instalment plan with three
  suspensions and six payments quoted 400 days after the first due date (the worst case a
  party's page shows), with the ratio between the two;
* ``capital_yuan`` for a 13-digit amount;
* callback verification: a sandbox notification (Ed25519) and a non-tax one (RSA-2048),
  with the ratio between them;
* rendering one fiscal e-receipt PDF (when Debian's Noto CJK font is installed).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import base64  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import httpx  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

from bench.harness import SMOKE  # noqa: E402
from payments import (  # noqa: E402
    Fine,
    InstalmentPlan,
    NontaxClient,
    Payment,
    ReceiptIssuer,
    SandboxClient,
    Suspension,
    SuspensionKind,
    amount_due,
    capital_yuan,
    fine_items,
    render_receipt_pdf,
)
from payments.platforms import sandbox_wire  # noqa: E402
from payments.platforms.nontax import canonical_string, china_time  # noqa: E402

NOW = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def per_call(label: str, work: Callable[[], object], seconds: float = 1.0) -> float:
    seconds = 0.05 if SMOKE else seconds
    work()
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        work()
        calls += 1
    each = elapsed / calls
    print(f"{label:<58} {each * 1e6:>10.1f} µs/call  ({calls} calls)")
    return each


def main() -> None:
    due = date(2026, 1, 10)
    simple = per_call(
        "amount_due: plain fine, 20 days late", lambda: amount_due(Fine(1000_00, due), due + timedelta(20))
    )
    plan = InstalmentPlan.of([(due + timedelta(30 * i), 100_00) for i in range(12)])
    suspensions = [
        Suspension(SuspensionKind.RECONSIDERATION, due + timedelta(40), due + timedelta(90)),
        Suspension(SuspensionKind.LAWSUIT, due + timedelta(150), due + timedelta(260)),
        Suspension(SuspensionKind.LAWSUIT, due + timedelta(380)),
    ]
    payments = [Payment(due + timedelta(45 * i), 150_00) for i in range(6)]
    worst = per_call(
        "amount_due: 12 instalments, 3 suspensions, 6 payments",
        lambda: amount_due(
            Fine(1200_00, due), due + timedelta(400), plan=plan, suspensions=suspensions, payments=payments
        ),
    )
    print(f"{'  ratio worst / plain':<58} {worst / simple:>10.1f} x")
    per_call("capital_yuan: 1234567890123.45 yuan", lambda: capital_yuan(1234567890123_45))

    with tempfile.TemporaryDirectory() as keys:
        key = sandbox_wire.load_or_create_key(Path(keys))
        sandbox = SandboxClient(
            base_url="http://sandbox.invalid",
            public_key=key.public_key(),
            merchant_key="k",
            http=httpx.AsyncClient(),
        )
        order = {
            "platform_order_id": "P1",
            "order_id": "o1",
            "payment_code": "c1",
            "amount_fen": 100_00,
            "status": "success",
            "expires_at": None,
            "paid_at": NOW.isoformat(),
            "serial": "S1",
        }
        body = json.dumps({"notification_id": "n1", "order": order}).encode()
        headers = sandbox_wire.sign(key, body, NOW)
        ed = per_call(
            "verify callback: sandbox (Ed25519)",
            lambda: sandbox.parse_and_verify_callback(headers, body, NOW),
        )

    platform_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nontax = NontaxClient(
        gateway_url="http://nontax.invalid",
        app_id="app",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        platform_key=platform_key.public_key(),
        http=httpx.AsyncClient(),
    )
    fields = {
        "trade_no": "P1",
        "out_trade_no": "o1",
        "pay_code": "c1",
        "total_amount": "100.00",
        "trade_status": "PAID",
        "pay_time": china_time(NOW),
        "pay_serial_no": "S1",
        "notify_id": "n1",
        "notify_time": china_time(NOW),
        "nonce": "a" * 32,
        "app_id": "app",
        "sign_type": "RSA2",
    }
    signature = platform_key.sign(canonical_string(fields), padding.PKCS1v15(), hashes.SHA256())
    form = urlencode({**fields, "sign": base64.b64encode(signature).decode()}).encode()
    rsa_each = per_call(
        "verify callback: non-tax (RSA-2048)", lambda: nontax.parse_and_verify_callback({}, form, NOW)
    )
    print(f"{'  ratio RSA-2048 / Ed25519':<58} {rsa_each / ed:>10.1f} x")

    if FONT.exists():
        issuer = ReceiptIssuer("35010124", "福州市市场监督管理局鼓楼分局", b"bench-secret-0123456789")
        receipt = issuer.issue(
            1,
            issued_at=NOW,
            payer_name="张三",
            payer_id="350100199001011234",
            items=fine_items(1000_00, 60_00),
            platform_serial="S1",
            payment_code="c1",
        )
        per_call(
            "render_receipt_pdf: one A4 page", lambda: render_receipt_pdf(receipt, "https://x/v", FONT), 3.0
        )
    else:
        print("render_receipt_pdf: skipped (fonts-noto-cjk not installed)")


if __name__ == "__main__":
    main()
