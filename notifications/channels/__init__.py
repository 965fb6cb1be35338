"""The ways a notification reaches a party, each behind the `Channel` protocol.

`smtp` (e-mail), `sms` (an HTTP SMS gateway) with its sandbox twin `sms_sandbox`, `inbox` (the
in-portal notice, stored by the portal) and `fake` (for tests). The public names are exported
from `notifications`.
"""
