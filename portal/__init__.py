"""The portal: the only package that knows HTTP, the database and sessions.

It owns settings, the database and every table (payments and the outbox included),
migrations, the use cases (services, where all SQL lives), the web edge (citizen pages and
the agency API), authentication, cases and codes, e-service and evidence, rights, publicity,
the legal calendar, workers and the ``portal`` command line. It calls the pure libraries
``signing``, ``payments`` and ``notifications``; they never call it.
"""
