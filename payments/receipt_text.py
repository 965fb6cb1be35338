"""A fiscal e-receipt's printed content, shared by its documents: the form's rows (laid out as
a table in the PDF) and the receipt as lines of text (for the OFD, whose page is lines of text).

Both documents say the same thing in the same words (``payments.catalogue.RECEIPT``), so a
person holding the OFD reads what the PDF's reader reads; the structured data travels with
each document as ``receipt.json`` (`payments.receipts.receipt_json`).
"""

from __future__ import annotations

from payments.catalogue import RECEIPT as T
from payments.receipts import Receipt, ReceiptKind

__all__ = ["ATTACHMENT_NAME", "form_rows", "receipt_lines"]

ATTACHMENT_NAME = "receipt.json"


def form_rows(receipt: Receipt) -> list[list[tuple[str, int]]]:
    """The form's rows: (text, colspan) cells over four columns, labels and values alternating."""
    issued = receipt.issued_at_china.strftime("%Y-%m-%d %H:%M:%S")
    rows: list[list[tuple[str, int]]] = [
        [(T["code"], 1), (receipt.code, 1), (T["number"], 1), (receipt.number, 1)],
        [(T["check_code"], 1), (receipt.check_code, 1), (T["issued_at"], 1), (issued, 1)],
        [(T["payer"], 1), (receipt.payer_name, 3)],
        [(T["payer_id"], 1), (receipt.payer_id, 3)],
        [
            (T["payment_code"], 1),
            (receipt.payment_code, 1),
            (T["platform_serial"], 1),
            (receipt.platform_serial, 1),
        ],
    ]
    if receipt.original is not None:
        rows.append([(T["original"], 1), (f"{receipt.original.code} / {receipt.original.number}", 3)])
    return rows


def receipt_lines(receipt: Receipt, verify_url: str) -> tuple[str, list[str]]:
    """The title and the lines of text of the receipt, in the PDF's order: the form's rows
    (``标签：值``), the items with their amounts, the totals, the issuing unit, the notes and
    the verification link (the documents' QR code encodes the same)."""
    reversal = receipt.kind is ReceiptKind.REVERSAL
    lines = ["　".join(f"{label}：{value}"
                      for (label, _), (value, _) in zip(row[::2], row[1::2], strict=True))
             for row in form_rows(receipt)]
    lines += [f"{T['item']}：{item.name}　{T['amount']}：{item.amount_yuan}" for item in receipt.items]
    lines += [f"{T['total_capital']}：{receipt.total_capital}",
              f"{T['total_figures']}：¥{receipt.total_yuan}", f"{T['issuer']}：{receipt.issuer}"]
    if reversal:
        lines.append(T["note_reversal"])
    lines += [T["note"], f"{T['verify_link']}：{verify_url}"]
    return T["title_reversal"] if reversal else T["title"], lines
