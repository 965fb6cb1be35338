"""Writing the outbox: messages exist exactly when the causing event committed (DESIGN.md
"one transaction per request or job"; SECURITY.md 2.3.3 all-or-nothing), once per event and
channel, only on the channels the party chose, and each holding only what its channel may say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from notifications import ChannelKind, ContextRejected, Kind, PersonalDataRejected
from portal.database import transaction
from portal.errors import ValidationFailed
from portal.models import EvidenceEvent
from portal.services import evidence, notification_preferences, outbox
from tests.conftest import Database
from tests.portal.workers.notification_factories import (
    DOCUMENT_FACTS,
    T0,
    count,
    enqueue,
    make_party,
    messages,
    renderer,
)


async def test_committed_event_gets_one_message_per_enabled_channel(database: Database) -> None:
    party = await make_party(database, email="zhang@example.com", mobile="+86 138-0013-8000")

    written = await enqueue(database, party, "arrival:1")

    rows = await messages(database)
    assert sorted(written) == [row.id for row in rows]
    by_channel = {row.channel: row for row in rows}
    assert set(by_channel) == {"inbox", "email", "sms"}
    assert by_channel["inbox"].recipient == f"party:{party}"
    assert by_channel["email"].recipient == "zhang@example.com"
    assert by_channel["sms"].recipient == "13800138000"
    assert {row.dedupe_key for row in rows} == {"arrival:1:inbox", "arrival:1:email", "arrival:1:sms"}
    assert all(row.status == "created" and row.attempts == 0 and row.template_version == 1
               and row.next_attempt_at == T0 for row in rows)
    # Data minimisation in storage too: each row keeps only its own template's variables.
    assert by_channel["sms"].context == {}
    assert set(by_channel["email"].context) == {"agency_name", "case_code", "document_type"}
    assert by_channel["inbox"].context["arrived_at"] == "2026-09-28T01:00:00+00:00"


async def test_messages_written_without_a_given_time_are_due_at_the_database_clock(
    database: Database,
) -> None:
    # enqueue reads the party's channels and the clock in one statement: a party who never
    # chose gets the notice only, a party with e-mail on gets both, each due when written.
    chose = await make_party(database, email="wang@example.com")
    never = await make_party(database)
    before = datetime.now(UTC)
    async with transaction(database.sessions) as db:
        for party in (chose, never):
            await outbox.enqueue(db, event_id=f"arrival:{party}", kind=Kind.DOCUMENT_ARRIVED,
                                 party_id=party, context=DOCUMENT_FACTS, renderer=renderer())
    after = datetime.now(UTC)

    rows = await messages(database)
    assert sorted((row.party_id, row.channel, row.recipient) for row in rows) == sorted([
        (chose, "inbox", f"party:{chose}"), (chose, "email", "wang@example.com"),
        (never, "inbox", f"party:{never}")])
    # The database's clock may run a little apart from this process's: a generous margin.
    assert all(row.created_at == row.next_attempt_at
               and before - timedelta(seconds=5) <= row.created_at <= after + timedelta(seconds=5)
               for row in rows)


async def test_rolled_back_event_leaves_no_message(database: Database) -> None:
    party = await make_party(database, email="zhang@example.com")

    with pytest.raises(RuntimeError):
        async with transaction(database.sessions) as db:
            await evidence.append(db, chain=f"party:{party}", kind="arrived", actor="test",
                                  payload={"n": 1})
            await outbox.enqueue(db, event_id="arrival:2", kind=Kind.DOCUMENT_ARRIVED,
                                 party_id=party, context=DOCUMENT_FACTS, renderer=renderer(), now=T0)
            raise RuntimeError("the delivery failed after the outbox rows were written")

    assert await count(database, "outbox_messages") == 0
    assert await count(database, "evidence_events") == 0


async def test_enqueueing_the_same_event_twice_is_a_no_op(database: Database) -> None:
    party = await make_party(database, mobile="13800138000")

    first = await enqueue(database, party, "arrival:3")
    second = await enqueue(database, party, "arrival:3")

    assert len(first) == 2 and second == []
    assert await count(database, "outbox_messages") == 2


async def test_party_without_preferences_gets_the_in_portal_notice_only(database: Database) -> None:
    party = await make_party(database)

    await enqueue(database, party, "arrival:4")

    assert [row.channel for row in await messages(database)] == ["inbox"]


@pytest.mark.parametrize("change, error", [
    ({"case_code": "110101199003074573"}, PersonalDataRejected),  # an ID number passed as a code
    ({"agency_name": "请访问 http://phish.example"}, ContextRejected),
    ({"surname": "张"}, ContextRejected),  # no template of the kind uses it
    ({"document_title": None}, ContextRejected),
])
async def test_a_context_the_templates_refuse_fails_the_causing_transaction(
    database: Database, change: dict[str, object], error: type[Exception]
) -> None:
    # Rendered for every channel even though this party has only the in-portal notice: a
    # caller's mistake must not depend on which channels a party happens to have chosen.
    party = await make_party(database)
    context = {**DOCUMENT_FACTS, **change}
    if change.get("document_title", "") is None:
        del context["document_title"]

    with pytest.raises(error):
        async with transaction(database.sessions) as db:
            await evidence.append(db, chain=f"party:{party}", kind="arrived", actor="test",
                                  payload={"n": 1})
            await outbox.enqueue(db, event_id="arrival:5", kind=Kind.DOCUMENT_ARRIVED,
                                 party_id=party, context=context, renderer=renderer(), now=T0)

    async with database.sessions() as db:
        assert (await db.execute(select(func.count()).select_from(EvidenceEvent))).scalar_one() == 0
    assert await count(database, "outbox_messages") == 0


async def test_preferences_need_an_address_for_each_channel_switched_on(database: Database) -> None:
    party = await make_party(database)
    async with transaction(database.sessions) as db:
        with pytest.raises(ValidationFailed) as refused:
            await notification_preferences.set_preferences(
                db, party, email=None, mobile="12345", email_enabled=True, sms_enabled=False)
    assert refused.value.errors == {"mobile": "invalid"}
    async with transaction(database.sessions) as db:
        with pytest.raises(ValidationFailed) as refused:
            await notification_preferences.set_preferences(
                db, party, email=None, mobile=None, email_enabled=True, sms_enabled=False)
    assert refused.value.errors == {"email": "required"}
    async with transaction(database.sessions) as db:
        saved = await notification_preferences.set_preferences(
            db, party, email="Li.Si@Example.COM", mobile="8613900001111", email_enabled=False,
            sms_enabled=True)
    assert saved.channels == {ChannelKind.INBOX: f"party:{party}", ChannelKind.SMS: "13900001111"}
    async with database.sessions() as db:
        stored = await notification_preferences.get_preferences(db, party)
    assert stored.email == "Li.Si@example.com" and not stored.email_enabled
