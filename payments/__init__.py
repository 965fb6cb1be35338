"""Money and payments, as a pure library: integer-fen amounts, the amount-due (surcharge)
engine, payment-platform clients behind one interface with a sandbox twin, signed callback
verification, fiscal e-receipt numbering and rendering rules, and reconciliation rules. It
never holds money (the payment platform does) and never imports ``portal``, ``signing``,
``notifications``, a web framework or an ORM.
"""
