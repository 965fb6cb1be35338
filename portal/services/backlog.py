"""What is waiting, and since when: the figures behind the backlog metrics (``portal.metrics``).

Read at each scrape, from the database every node shares, so any node answers for the whole
cluster: notifications not yet delivered (by status) and the oldest one due, follow-up jobs not
done (by kind) and the oldest, and among them the receipts still to issue (a paid fine's fiscal
e-receipt, a service receipt, a submission receipt). A backlog that grows or ages is a worker
that is not running or an outside system (TSA, payment platform, webhook) that is down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.jobs import Job
from portal.models.outbox import OutboxMessage
from portal.services.deliveries import RECEIPT_JOB as SERVICE_RECEIPT_JOB
from portal.services.payment_callbacks import RECEIPT_JOB as FISCAL_RECEIPT_JOB
from portal.services.payment_orders import REVERSAL_JOB
from portal.services.submissions import RECEIPT_JOB as SUBMISSION_RECEIPT_JOB

RECEIPT_KINDS = {FISCAL_RECEIPT_JOB: "fiscal", REVERSAL_JOB: "fiscal_reversal",
                 SERVICE_RECEIPT_JOB: "service", SUBMISSION_RECEIPT_JOB: "submission"}
"""Job kinds that issue a receipt, by the receipt's name in the metrics."""


@dataclass(frozen=True)
class Waiting:
    count: int
    oldest_seconds: float
    """Age of the oldest waiting item (0 when none waits)."""


@dataclass
class Backlog:
    outbox: dict[str, int] = field(default_factory=dict)
    """Messages not yet delivered, by status (created, sending, temporary-failure)."""
    outbox_oldest_due_seconds: float = 0.0
    jobs: dict[str, Waiting] = field(default_factory=dict)
    """Follow-up jobs not done, by kind."""

    def receipts(self) -> dict[str, Waiting]:
        return {name: self.jobs.get(kind, Waiting(0, 0.0)) for kind, name in RECEIPT_KINDS.items()}


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


async def backlog(db: AsyncSession, now: datetime) -> Backlog:
    """Grouped counts over the pending rows only (found through indexed columns)."""
    result = Backlog()
    pending = OutboxMessage.next_attempt_at.is_not(None)
    for status, count in (await db.execute(
            select(OutboxMessage.status, func.count()).where(pending).group_by(OutboxMessage.status))):
        result.outbox[status] = count
    oldest_due = (await db.execute(select(func.min(OutboxMessage.next_attempt_at)).where(
        pending, OutboxMessage.next_attempt_at <= now))).scalar_one()
    result.outbox_oldest_due_seconds = _age(now, oldest_due)
    for kind, count, oldest in (await db.execute(
            select(Job.kind, func.count(), func.min(Job.created_at)).where(Job.done.is_(False))
            .group_by(Job.kind))):
        result.jobs[kind] = Waiting(count, _age(now, oldest))
    return result
