"""Payment platforms behind one interface (`base.PaymentPlatform`).

- `base`: the protocol and the values that cross it.
- `sandbox`: the sandbox payment platform itself, a small ASGI app that stands for an outside
  system (development and tests only); `sandbox_wire` its protocol; `sandbox_client` the
  portal's adapter for it.
- `nontax`: the adapter for the provincial non-tax revenue payment platform's protocol.

Public names are re-exported from `payments`; this package imports nothing on purpose, so
`payments.callbacks` and the adapters can import `payments.platforms.base` without a cycle.
"""
