"""Background jobs: each takes ids, reloads them in its own transaction and is safe to run twice.

``notifications`` drains the outbox, ``reminders`` queues deadline reminders, ``channels``
builds the channels from settings, and ``runner`` starts them for ``portal worker`` (or in the
background of ``portal run``) and stops them gracefully on SIGTERM. The follow-up jobs of the
``jobs`` table (``eservice``, ``payments``, ``submissions``, the daily ``reconciliation``) are
one table of handlers each, run by the loop in ``jobs``. More jobs (publicity expiry) join
here, one module each.
"""
