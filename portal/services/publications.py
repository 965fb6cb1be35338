"""Publishing enforcement information: the agency's acts and the agency's view of its items.

``publish`` masks the submission (``portal.publicity.ingest``) and stores the masked content
as version 1 with its window; ``republish`` adds version n+1 under the same window rule (FJ
art. 21: the window runs again from the new publication, with the same period);
``withdraw`` adds the withdrawal after checking the ground against the window (APL art. 48,
``portal.publicity.window``). Each act also appends an event to the item's evidence chain
``publication:<id>`` (content hash, window; never the text) and rewrites the item's
projection row; version and withdrawal rows are never changed (``portal.models.publicity``).

An agency sees and changes only its own items: another agency's id is ``NotFound`` like one
that never existed (ASVS v5.0.0-8.4.1). Acts on one item take its chain lock first, so a
withdrawal and a new version cannot interleave. ``now`` is the instant of the act: the
database clock unless the caller passes one (tests, the demo). Services flush, never commit.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.catalogue import PUBLICITY
from portal.database import database_now
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.evidence_hash import instant_text
from portal.legal_calendar import CHINA_TZ, HolidayCalendar
from portal.models.publicity import Publication, PublicationVersion, PublicationWithdrawal
from portal.publicity.ingest import (
    FREE_TEXTS,
    MaskedField,
    PublicContent,
    Submission,
    for_search,
    publishable,
    search_text,
)
from portal.publicity.masking import mask_text
from portal.publicity.window import (
    PublicityPeriod,
    Window,
    WithdrawalGround,
    late_publication,
    late_withdrawal,
    withdrawal_refusal,
)
from portal.services import evidence, publication_subjects

log = logging.getLogger("portal.publicity")

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Notice:
    """A warning in the API answer: the act stands, but a rule's deadline was missed."""

    code: str
    detail: str
    deadline: date


@dataclass(frozen=True)
class VersionView:
    version: int
    published_at: datetime
    public_until: datetime
    content: PublicContent
    warnings: tuple[Notice, ...]


@dataclass(frozen=True)
class WithdrawalView:
    withdrawn_at: datetime
    ground: WithdrawalGround
    reason: str
    occurred_on: date | None
    warnings: tuple[Notice, ...]


@dataclass(frozen=True)
class AgencyPublication:
    """What the publishing agency sees of its item: status, window and every version."""

    id: int
    kind: str
    agency_case_number: str
    status: str  # public | withdrawn | expired
    first_published_at: datetime
    window: Window
    period: PublicityPeriod
    versions: tuple[VersionView, ...]
    withdrawal: WithdrawalView | None


def chain_of(publication_id: int) -> str:
    return f"publication:{publication_id}"


async def publish(db: AsyncSession, agency_id: int, actor: str, submission: Submission,
                  calendar: HolidayCalendar, *, subjects: Sequence[tuple[str, str]] = (),
                  now: datetime | None = None) -> AgencyPublication:
    """Publish a new item; ``Conflict`` ``publication_exists`` for a case number published.
    ``subjects``: (role, keyed digest) of whom it concerns (``services.publication_subjects``)."""
    if submission.kind is None or submission.agency_case_number is None:
        raise RuntimeError("a new publication names its kind and case number (a change names neither)")
    now = now or await database_now(db)
    _check_decision_date(submission, now)
    existing = await db.scalar(select(Publication.id).where(
        Publication.agency_id == agency_id, Publication.kind == submission.kind.value,
        Publication.agency_case_number == submission.agency_case_number))
    if existing is not None:
        raise Conflict(code="publication_exists", extra={"publication_id": existing})
    content = publishable(submission)
    period = submission.period or PublicityPeriod()
    window = Window.opening(now, period)
    item = Publication(
        agency_id=agency_id, kind=submission.kind.value,
        agency_case_number=submission.agency_case_number, region_code=content.region_code,
        decision_date=content.decision_date, version=1, first_published_at=now,
        published_at=now, public_until=window.end, publicity_days=period.days,
        publicity_basis=period.basis, search_text=search_text(submission.agency_case_number, content))
    db.add(item)
    try:
        await db.flush()
    except IntegrityError:  # the same case number published concurrently
        raise Conflict(code="publication_exists") from None
    warnings = _late_warnings(content.decision_date, now, calendar)
    await _add_version(db, item, actor, content, window, warnings)
    await publication_subjects.record(db, item.id, item.version, subjects)
    await _record(db, item, actor, "publication_published", content, window)
    return await agency_view(db, agency_id, item.id, now=now)


async def republish(db: AsyncSession, agency_id: int, actor: str, publication_id: int,
                    submission: Submission, calendar: HolidayCalendar, *,
                    subjects: Sequence[tuple[str, str]] = (),
                    now: datetime | None = None) -> AgencyPublication:
    """Publish a changed version of a public item; the earlier versions stay as they were."""
    item = await _locked_item(db, agency_id, publication_id)
    now = now or await database_now(db)
    if item.withdrawn_at is not None:
        raise Conflict(code="publication_withdrawn")
    if now >= item.public_until:
        raise Conflict(code="publication_expired")
    _check_decision_date(submission, now)
    content = publishable(submission)
    period = submission.period or PublicityPeriod(item.publicity_days, item.publicity_basis)
    window = Window.opening(now, period)
    # a new decision date is a new decision, published late or not; the same one is not
    changed_decision = content.decision_date != item.decision_date
    warnings = _late_warnings(content.decision_date, now, calendar) if changed_decision else ()
    item.version += 1
    item.region_code, item.decision_date = content.region_code, content.decision_date
    item.published_at, item.public_until = now, window.end
    item.publicity_days, item.publicity_basis = period.days, period.basis
    item.search_text = search_text(item.agency_case_number, content)
    await _add_version(db, item, actor, content, window, warnings)
    await publication_subjects.record(db, item.id, item.version, subjects)
    await _record(db, item, actor, "publication_republished", content, window)
    return await agency_view(db, agency_id, item.id, now=now)


async def withdraw(db: AsyncSession, agency_id: int, actor: str, publication_id: int, *,
                   ground: WithdrawalGround, reason: str, occurred_on: date | None,
                   named_persons: tuple[str, ...], calendar: HolidayCalendar,
                   now: datetime | None = None) -> AgencyPublication:
    """Withdraw a public item; the public then sees a notice with the (masked) reason."""
    item = await _locked_item(db, agency_id, publication_id)
    now = now or await database_now(db)
    if item.withdrawn_at is not None:
        raise Conflict(code="already_withdrawn")
    window = Window(item.published_at, item.public_until)
    refusal = withdrawal_refusal(window, now, ground)
    if refusal == "withdrawal_too_early":
        raise Conflict(code=refusal, extra={"earliest_withdrawal": instant_text(window.minimum_end),
                                            "allowed_grounds": [g.value for g in WithdrawalGround
                                                                if g.is_apl_48]})
    if refusal is not None:
        raise Conflict(code=refusal)
    if occurred_on is not None and occurred_on > now.astimezone(CHINA_TZ).date():
        raise ValidationFailed({"occurred_on": "in_future"})
    warnings: tuple[Notice, ...] = ()
    if ground.is_apl_48 and occurred_on is not None:
        missed = late_withdrawal(occurred_on, now, calendar)
        if missed is not None:
            warnings = (Notice("withdrawn_late", PUBLICITY["warning.withdrawn_late"].format(
                last_day=missed.last_day.isoformat()), missed.last_day),)
    masked_reason = mask_text(reason, known_persons=named_persons).text
    db.add(PublicationWithdrawal(
        publication_id=item.id, withdrawn_at=now, actor=actor, ground=ground.value,
        reason=masked_reason, occurred_on=occurred_on, warnings=[_notice_json(w) for w in warnings]))
    item.withdrawn_at = now
    item.search_text = for_search(item.agency_case_number)  # the content is no longer matched
    await db.flush()
    await evidence.append(db, chain=chain_of(item.id), kind="publication_withdrawn", actor=actor,
                          occurred_at=now, payload={"ground": ground.value, "version": item.version})
    log.info("publication withdrawn", extra={"action": "publication_withdrawn", "object": item.id})
    return await agency_view(db, agency_id, item.id, now=now)


@dataclass(frozen=True)
class RemaskReport:
    """What ``remask`` did: items looked at, and items given a newly masked version."""

    checked: int
    remasked: int


async def remask(db: AsyncSession, *, now: datetime | None = None) -> RemaskReport:
    """Mask the public items again with today's rules (a person the rules of the day of ingest missed).

    Versions are the record (append-only, their digests in the evidence chain), so an item
    whose current texts change under ``mask_text`` gets a new version with the masked texts
    and the same window (the agency changed nothing, so its window does not run again), a
    ``publication_remasked`` event, and a search text without the name. Masking is a fixed
    point, so running this twice changes nothing the second time. Withdrawn and expired items
    show no content and are left as they are.
    """
    now = now or await database_now(db)
    ids = (await db.scalars(select(Publication.id).where(
        Publication.withdrawn_at.is_(None), Publication.public_until > now).order_by(Publication.id))).all()
    remasked = 0
    for publication_id in ids:
        await evidence.lock(db, chain_of(publication_id))
        item = await db.get(Publication, publication_id)
        current = (await db.execute(select(PublicationVersion).where(
            PublicationVersion.publication_id == publication_id,
            PublicationVersion.version == item.version))).scalar_one() if item else None
        if item is None or current is None:
            continue
        content = _version_view(current).content
        results = {name: mask_text(getattr(content, name)) for name in FREE_TEXTS}
        if not any(result.findings for result in results.values()):
            continue
        added = tuple(MaskedField(name, f.kind.value, f.start, f.end)
                      for name, result in results.items() for f in result.findings)
        content = dataclasses.replace(content, masked=content.masked + added,
                                      violation=results["violation"].text,
                                      legal_basis=results["legal_basis"].text, result=results["result"].text)
        item.version += 1
        item.search_text = search_text(item.agency_case_number, content)
        window = Window(current.published_at, current.public_until)
        await _add_version(db, item, "portal:remask", content, window, ())
        await publication_subjects.carry(db, item.id, current.version, item.version)
        await evidence.append(db, chain=chain_of(item.id), kind="publication_remasked", actor="portal:remask",
                              occurred_at=now, payload={"version": item.version,
                                                        "content_sha256": content.digest()})
        remasked += 1
    log.info("publications remasked", extra={"action": "publication_remasked", "count": remasked})
    return RemaskReport(len(ids), remasked)


async def agency_view(db: AsyncSession, agency_id: int, publication_id: int, *,
                      now: datetime | None = None) -> AgencyPublication:
    """The agency's own item with every version; ``NotFound`` for anyone else's."""
    item = await _own_item(db, agency_id, publication_id)
    now = now or await database_now(db)
    versions = (await db.scalars(select(PublicationVersion).where(
        PublicationVersion.publication_id == item.id).order_by(PublicationVersion.version))).all()
    withdrawal = await db.scalar(select(PublicationWithdrawal).where(
        PublicationWithdrawal.publication_id == item.id))
    window = Window(item.published_at, item.public_until)
    status = "withdrawn" if withdrawal else "public" if window.is_public(now) else "expired"
    return AgencyPublication(
        id=item.id, kind=item.kind, agency_case_number=item.agency_case_number, status=status,
        first_published_at=item.first_published_at, window=window,
        period=PublicityPeriod(item.publicity_days, item.publicity_basis),
        versions=tuple(_version_view(v) for v in versions),
        withdrawal=None if withdrawal is None else WithdrawalView(
            withdrawal.withdrawn_at, WithdrawalGround(withdrawal.ground), withdrawal.reason,
            withdrawal.occurred_on, tuple(_notice(w) for w in withdrawal.warnings)))


async def _own_item(db: AsyncSession, agency_id: int, publication_id: int) -> Publication:
    if not 0 < publication_id <= MAX_ID:  # a path may carry any integer; a BIGINT may not
        raise NotFound()
    item = await db.scalar(select(Publication).where(
        Publication.id == publication_id, Publication.agency_id == agency_id))
    if item is None:
        raise NotFound()
    return item


async def _locked_item(db: AsyncSession, agency_id: int, publication_id: int) -> Publication:
    item = await _own_item(db, agency_id, publication_id)
    await evidence.lock(db, chain_of(item.id))
    await db.refresh(item)  # what the previous holder of the lock committed
    return item


def _check_decision_date(submission: Submission, now: datetime) -> None:
    if submission.decision_date > now.astimezone(CHINA_TZ).date():
        raise ValidationFailed({"decision_date": "in_future"})


def _late_warnings(decided_on: date, now: datetime, calendar: HolidayCalendar) -> tuple[Notice, ...]:
    late = late_publication(decided_on, now, calendar)
    if late is None:
        return ()
    last_day = late.deadline.last_day
    return (Notice("published_late", PUBLICITY["warning.published_late"].format(
        days=late.working_days, last_day=last_day.isoformat()), last_day),)


async def _add_version(db: AsyncSession, item: Publication, actor: str, content: PublicContent,
                       window: Window, warnings: tuple[Notice, ...]) -> None:
    db.add(PublicationVersion(
        publication_id=item.id, version=item.version, published_at=window.start,
        public_until=window.end, actor=actor, party_kind=content.party_kind,
        party_name=content.party_name, credit_code=content.credit_code,
        violation=content.violation, legal_basis=content.legal_basis, result=content.result,
        amount_fen=content.amount_fen, decision_date=content.decision_date,
        region_code=content.region_code,
        masked=[{"field": m.field, "kind": m.kind, "start": m.start, "end": m.end}
                for m in content.masked],
        warnings=[_notice_json(w) for w in warnings], content_sha256=content.digest()))
    await db.flush()


async def _record(db: AsyncSession, item: Publication, actor: str, kind: str,
                  content: PublicContent, window: Window) -> None:
    await evidence.append(db, chain=chain_of(item.id), kind=kind, actor=actor, occurred_at=window.start,
                          payload={"version": item.version, "content_sha256": content.digest(),
                                   "public_until": instant_text(window.end)})
    # counts by kind only: the log never sees a masked value, let alone a raw one
    log.info(kind.replace("_", " "), extra={"action": kind, "object": item.id,
                                            "count": len(content.masked)})


def _version_view(row: PublicationVersion) -> VersionView:
    content = PublicContent(
        party_kind=row.party_kind, party_name=row.party_name, credit_code=row.credit_code,
        violation=row.violation, legal_basis=row.legal_basis, result=row.result,
        amount_fen=row.amount_fen, decision_date=row.decision_date, region_code=row.region_code,
        masked=tuple(MaskedField(str(m["field"]), str(m["kind"]), int(str(m["start"])),
                                 int(str(m["end"]))) for m in row.masked))
    return VersionView(row.version, row.published_at, row.public_until, content,
                       tuple(_notice(w) for w in row.warnings))


def _notice_json(notice: Notice) -> dict[str, object]:
    return {"code": notice.code, "detail": notice.detail, "deadline": notice.deadline.isoformat()}


def _notice(value: dict[str, Any]) -> Notice:
    return Notice(str(value["code"]), str(value["detail"]), date.fromisoformat(str(value["deadline"])))
