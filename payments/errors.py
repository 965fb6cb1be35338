"""Every error the payments library raises, as one tree.

```
PaymentsError
 ├── InvalidAmount              not integer fen: a bool, a float, a string, or out of range
 │                              (also a ValueError)
 ├── InvalidQuoteInput          a fine, plan, deferral, suspension or payment that cannot be
 │                              quoted: plan not summing to the fine, deferral shortening the
 │                              period, suspension ending before it starts (also a ValueError)
 ├── InvalidRecord              a payment record handed to reconciliation is malformed
 │                              (also a ValueError)
 ├── IllegalTransition          the payment-order state machine refuses (state, event);
 │                              carries both, for the log
 ├── ReceiptError               a fiscal e-receipt cannot be built
 │    ├── InvalidReceipt        a field has the wrong shape (code not 8 digits, no items, …)
 │    └── ReceiptNumberExhausted the 10-digit number range of a receipt code is used up
 └── PlatformError              talking to a payment platform
      ├── PlatformUnavailable   network error, timeout, 5xx: the same call may work later
      ├── PlatformMisconfigured our side is wrong: a key file of the wrong type, a bad URL
      ├── PlatformRejected      the platform answered "no"; carries its `code`
      │    └── OrderNotFound    it does not know the order asked about
      └── UntrustedMessage      a callback or response cannot be trusted; carries `reason`
           ├── BadSignature     signature missing, malformed or not made by the platform's key
           ├── StaleTimestamp   signed more than 300 s before or after our clock
           └── MalformedMessage not a message of the protocol: bad encoding, missing or bad fields
```

`UntrustedMessage.reason` is the stable code that `payments.callbacks.RefuseReason` uses
too, so the portal logs the same word whether the adapter raised or the decision refused.
Messages never contain payer names, ID numbers or raw callback bodies (SECURITY.md, logging:
v5.0.0-16.2.5).
"""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "IllegalTransition",
    "InvalidAmount",
    "InvalidQuoteInput",
    "InvalidReceipt",
    "InvalidRecord",
    "MalformedMessage",
    "OrderNotFound",
    "PaymentsError",
    "PlatformError",
    "PlatformMisconfigured",
    "PlatformRejected",
    "PlatformUnavailable",
    "ReceiptError",
    "ReceiptNumberExhausted",
    "StaleTimestamp",
    "UntrustedMessage",
]


class PaymentsError(Exception):
    """Base of every error of the payments library."""


class InvalidAmount(PaymentsError, ValueError):
    """An amount is not an integer number of fen within the accepted range."""


class InvalidQuoteInput(PaymentsError, ValueError):
    """The inputs of an amount-due computation contradict each other or the law."""


class InvalidRecord(PaymentsError, ValueError):
    """A portal payment record given to reconciliation is malformed."""


class IllegalTransition(PaymentsError):
    """The state machine has no transition for this event in this state.

    `state` and `event` are the enum values' strings, so the error can be logged as is.
    """

    def __init__(self, state: str, event: str) -> None:
        self.state = state
        self.event = event
        super().__init__(f"illegal transition: event {event!r} in state {state!r}")


class ReceiptError(PaymentsError):
    """A fiscal e-receipt cannot be built or numbered."""


class InvalidReceipt(ReceiptError, ValueError):
    """A receipt field has the wrong shape."""


class ReceiptNumberExhausted(ReceiptError):
    """All 10-digit numbers of one receipt code are used; the finance department issues a new code."""


class PlatformError(PaymentsError):
    """Something went wrong between the portal and a payment platform."""


class PlatformUnavailable(PlatformError):
    """The platform could not be reached or failed on its side; try again later."""


class PlatformMisconfigured(PlatformError):
    """Our configuration of a platform is wrong (a key of the wrong type, a malformed URL)."""


class PlatformRejected(PlatformError):
    """The platform answered and refused the request.

    `code` is the platform's own error code (or an HTTP status as text); `detail` its message,
    which platforms write without personal data.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"platform refused the request: {code} {detail}".rstrip())


class OrderNotFound(PlatformRejected):
    """The platform does not know the order asked about."""


class UntrustedMessage(PlatformError):
    """A message claiming to come from the platform cannot be trusted.

    `reason` is a stable code: ``bad_signature``, ``stale_timestamp`` or ``malformed``.
    """

    reason = "untrusted"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}")


class BadSignature(UntrustedMessage):
    """The signature is missing, malformed, or was not made with the platform's key."""

    reason = "bad_signature"


class StaleTimestamp(UntrustedMessage):
    """The signed timestamp is outside the ±300 s window around our clock."""

    reason = "stale_timestamp"


class MalformedMessage(UntrustedMessage):
    """The message is authentic but does not follow the protocol (missing or bad fields)."""

    reason = "malformed"
