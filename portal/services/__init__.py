"""Use cases: (session, plain values) -> models or value objects. All SQL lives here.

Services flush, never commit: the web layer or the job runner commits once per request or job.
"""
