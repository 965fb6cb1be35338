"""The personal-information notice tells the truth (PIPL art. 7, 17, 19; LAW.md "Publicity and
privacy"): every table is either in ``portal.retention`` or holds nothing about a person; the
page at /privacy states each period from that table, linked at login, at consent and from every
page; and each period the page promises is enforced by the housekeeping round, to the day.
Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import InboxNotice
from portal import retention
from portal.database import Base, transaction
from portal.models import (
    FormDraft,
    Notice,
    OutboxAttempt,
    OutboxMessage,
    PaymentSecurityEvent,
    PublicationSubject,
    RateLimitWindow,
    VerificationReportRecord,
    WebSession,
)
from portal.models.publicity import Publication
from portal.services import housekeeping, notices
from portal.services.notification_preferences import party_reference
from portal.settings import Settings
from portal.workers.housekeeping import HousekeepingJob
from tests import builders
from tests.conftest import Database
from tests.identities import ZHANGSAN
from tests.portal.publicity.factories import body, publish
from tests.portal.web.login_flow import log_in

NOW = datetime(2027, 6, 1, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)
IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


def test_every_table_is_in_the_notice_or_holds_no_personal_data(settings: Settings) -> None:
    # PIPL art. 17: the notice lists every kind of personal information; a new table fails here
    # until someone says what it keeps and for how long
    listed = [table for kept in retention.kept(session_idle_minutes=30) for table in kept.tables]
    assert len(listed) == len(set(listed)), "a table is listed twice"
    classified = set(listed) | retention.NO_PERSONAL_DATA | retention.DEVELOPMENT_ONLY
    assert set(Base.metadata.tables) | {"alembic_version"} == classified


async def test_the_page_states_the_periods_the_code_keeps(
        client: httpx.AsyncClient, settings: Settings) -> None:
    # PIPL art. 17, 19: purposes, retention, recipients and rights, before anything is collected
    page = await client.get("/privacy")
    assert page.status_code == 200
    text = page.text
    for kept in retention.kept(session_idle_minutes=settings.session_idle_minutes):
        assert f'id="kept-{kept.key}"' in text, kept.key
    idle, absolute = settings.session_idle_minutes, settings.session_absolute_hours
    assert f"闲置超过{idle}分钟或登录超过{absolute}小时" in text
    assert f"生成后{retention.NOTIFICATION_MESSAGES.days}天，期满删除" in text
    assert f"生成后{retention.NOTICES.days}天，期满删除" in text
    assert f"生成后{int(retention.VERIFICATION_REPORTS.total_seconds()) // 3600}小时，期满删除" in text
    assert "统计时段结束后24小时，期满删除" in text and "公示结束（期满或撤回）即删除" in text
    assert f"生成后{retention.SECURITY_EVENTS.days}天，期满删除" in text
    for heading in ("提供给谁", "您的权利", "撤回电子送达确认", "提出数据异议"):
        assert heading in text
    assert 'href="/privacy"' in (await client.get("/login")).text  # before the login collects
    await log_in(client, "zhangsan")
    assert 'href="/privacy#kept-consent"' in (await client.get("/consent")).text
    assert 'href="/privacy"' in (await client.get("/cases")).text  # the footer of every page


async def _notice(db: AsyncSession, party_id: int, key: str, created: datetime) -> None:
    """A notice the inbox channel stored at ``created``."""
    await notices.store_notice(db, InboxNotice(party_reference(party_id), "t", "b", 1, key), now=created)


async def _messages(db: AsyncSession, party_id: int, created: datetime, status: str, n: int) -> None:
    message = OutboxMessage(kind="document_arrived", channel="email", party_id=party_id,
                            recipient="zhangsan@example.com", context={}, dedupe_key=f"m{n}",
                            template_version=1, status=status, attempts=1, created_at=created,
                            next_attempt_at=NOW if status == "temporary-failure" else None)
    db.add(message)
    await db.flush()
    db.add(OutboxAttempt(message_id=message.id, attempt_no=1, party_id=party_id, channel="email",
                         worker_id="w", started_at=created, finished_at=created, status=status))


async def _count(db: AsyncSession, model: type[Base]) -> int:
    return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_each_period_is_enforced_to_the_day(database: Database) -> None:
    # PIPL art. 19: kept no longer than the notice says, and not shorter either. Operational
    # rows (no legal record, no event chain) are written straight, each aged a day (a minute,
    # a second) either side of its period: what the prune reads is their time stamps
    async with transaction(database.sessions) as db:
        party = (await builders.party(db, ZHANGSAN)).id
        for n, (age, status) in enumerate([
                (retention.NOTIFICATION_MESSAGES + DAY, "delivered"),  # gone
                (retention.NOTIFICATION_MESSAGES + DAY, "permanent-failure"),  # gone
                (retention.NOTIFICATION_MESSAGES + DAY, "temporary-failure"),  # still retried: stays
                (retention.NOTIFICATION_MESSAGES - DAY, "delivered")]):  # young: stays
            await _messages(db, party, NOW - age, status, n)
        for n, age in enumerate((retention.NOTICES + DAY, retention.NOTICES - DAY)):
            await _notice(db, party, f"n{n}", NOW - age)
        for n, age in enumerate((retention.VERIFICATION_REPORTS + timedelta(minutes=1),
                                 retention.VERIFICATION_REPORTS - timedelta(minutes=1))):
            db.add(VerificationReportRecord(id_hash=f"{n}" * 64, created_at=NOW - age,
                                            expires_at=NOW - age + retention.VERIFICATION_REPORTS,
                                            document_sha256="0" * 64, document_size=1, report={}))
    market = await builders.agency(database)
    ended = await publish(database, market, body("榕市监罚〔2025〕1号", decided=(NOW - 801 * DAY).date()),
                          at=NOW - 800 * DAY)
    public = await publish(database, market, body("榕市监罚〔2027〕2号", decided=(NOW - 2 * DAY).date()),
                           at=NOW - DAY)
    async with transaction(database.sessions) as db:
        for item in (ended, public):
            db.add(PublicationSubject(publication_id=item.id, version=1, role="party", digest="d" * 64))
    assert ended.window.end <= NOW < public.window.end

    async with transaction(database.sessions) as db:
        for n, (created, seen, ended_at) in enumerate([
                (NOW - IDLE, NOW - IDLE - timedelta(seconds=1), None),  # idle too long: gone
                (NOW - ABSOLUTE - timedelta(seconds=1), NOW, None),  # too old however busy: gone
                (NOW - DAY, NOW - DAY, NOW - DAY),  # logged out: gone
                (NOW - ABSOLUTE + timedelta(minutes=1), NOW - IDLE + timedelta(seconds=1), None)]):
            db.add(WebSession(token_hash=f"{n}" * 64, data={}, created_at=created, last_seen_at=seen,
                              ended_at=ended_at))
        for n, start in enumerate((NOW - retention.RATE_WINDOWS - timedelta(seconds=1),
                                   NOW - retention.RATE_WINDOWS + timedelta(seconds=1))):
            db.add(RateLimitWindow(key=f"k{n}", window_start=start, count=1))
        for age in (retention.SECURITY_EVENTS + DAY, retention.SECURITY_EVENTS - DAY):
            db.add(PaymentSecurityEvent(occurred_at=NOW - age, platform="sandbox", reason="bad_signature",
                                        detail="", body_sha256="0" * 64))
        for n, age in enumerate((retention.DRAFTS + timedelta(seconds=1),
                                 retention.DRAFTS - timedelta(seconds=1))):
            db.add(FormDraft(person_id=party, acting_party_id=party, path=f"/cases/x/statement{n}",
                             fields={"text": "未提交"}, created_at=NOW - age))

    async with transaction(database.sessions) as db:
        pruned = await housekeeping.prune(db, now=NOW, idle=IDLE, absolute=ABSOLUTE)
    assert pruned == housekeeping.Pruned(web_sessions=3, security_events=1, rate_windows=1, messages=2,
                                    notices=1, publication_subjects=1, verification_reports=1,
                                    drafts=1)
    async with database.sessions() as db:
        left = (await db.execute(select(OutboxMessage.status).order_by(OutboxMessage.id))).scalars().all()
        assert left == ["temporary-failure", "delivered"] and await _count(db, OutboxAttempt) == 2
        assert await _count(db, Notice) == 1 and await _count(db, VerificationReportRecord) == 1
        kept = (await db.execute(select(PublicationSubject.publication_id))).scalars().all()
        assert kept == [public.id]
        assert await _count(db, Publication) == 2  # the published record itself stays
        for model in (WebSession, RateLimitWindow, PaymentSecurityEvent, FormDraft):
            assert await _count(db, model) == 1, model


ENFORCED = {"session": WebSession, "limits": RateLimitWindow, "security": PaymentSecurityEvent,
            "messages": OutboxMessage, "notices": Notice, "publication_subjects": PublicationSubject,
            "verification": VerificationReportRecord, "drafts": FormDraft}
"""Each kind the notice says is deleted, and a table the test above prunes to the day."""


def test_every_period_the_notice_states_is_enforced_by_the_test_above() -> None:
    # PIPL art. 19: a kind the page says is deleted is deleted by code a test holds to the day;
    # a new pruned kind fails here until the test above covers it
    promised = {kept.key: kept.tables for kept in retention.kept(session_idle_minutes=30) if kept.pruned}
    assert set(promised) == set(ENFORCED)
    assert all(ENFORCED[key].__tablename__ in tables for key, tables in promised.items())


async def test_the_worker_runs_the_round(database: Database, settings: Settings) -> None:
    # PIPL art. 19: ``portal worker`` (and ``portal run``) prune on their own, every round
    async with transaction(database.sessions) as db:
        party = (await builders.party(db, ZHANGSAN)).id
        await _notice(db, party, "old", NOW - retention.NOTICES - DAY)
    job = HousekeepingJob(database.sessions, settings, clock=lambda: NOW)
    assert (await job.run_once()).notices == 1
    async with database.sessions() as db:
        assert await _count(db, Notice) == 0
