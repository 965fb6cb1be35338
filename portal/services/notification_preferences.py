"""Where a party wants to be told: e-mail, SMS, or only the in-portal notice.

A party opts in to each outside channel; the in-portal notice is always on, because it is
where the portal itself shows what happened. The addresses are personal data: they are
checked for shape here and never logged. Changing them decides where notifications go, so the
settings page (built with login) must ask for a fresh login first (SECURITY.md, 7.5.1); this
module only stores what it is given.

``Preferences.channels`` is what the outbox asks when it writes a party's messages.
``mask_email`` and ``mask_mobile`` are how the settings page shows the stored contacts: enough
to recognise them, not enough to learn them from a session left open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import DateTime, Table, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import ChannelKind
from portal.database import database_now, utcnow
from portal.errors import ValidationFailed
from portal.models.outbox import NotificationPreference

# Mainland mobile numbers, as the SMS gateways accept them; "+86" and "86" are dropped.
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class Preferences:
    """A party's contacts and switches; ``channels`` always includes the in-portal notice."""

    party_id: int
    email: str | None
    mobile: str | None
    email_enabled: bool
    sms_enabled: bool

    @property
    def channels(self) -> dict[ChannelKind, str]:
        """Each enabled channel with the recipient address the outbox writes for it."""
        targets = {ChannelKind.INBOX: party_reference(self.party_id)}
        if self.email_enabled and self.email:
            targets[ChannelKind.EMAIL] = self.email
        if self.sms_enabled and self.mobile:
            targets[ChannelKind.SMS] = self.mobile
        return targets


def party_reference(party_id: int) -> str:
    """The in-portal notice's recipient: the party, not an address."""
    return f"party:{party_id}"


def party_from_reference(reference: str) -> int:
    """The party id back from ``party_reference``; ValueError for anything else."""
    prefix, _, number = reference.partition(":")
    if prefix != "party" or not number.isdigit():
        raise ValueError("not a party reference")
    return int(number)


def normalise_mobile(value: str) -> str:
    """An 11-digit mainland mobile number, or ValidationFailed."""
    match = _MOBILE.fullmatch(value.replace(" ", "").replace("-", ""))
    if match is None:
        raise ValidationFailed({"mobile": "invalid"})
    return match.group(1)


def normalise_email(value: str) -> str:
    """An ASCII e-mail address (the SMTP channel sends without SMTPUTF8), or ValidationFailed."""
    address = value.strip()
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise ValidationFailed({"email": "invalid"})
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def mask_mobile(mobile: str) -> str:
    """``13800138000`` → ``138****8000``: the usual mainland masking."""
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_email(email: str) -> str:
    """``zhangsan@example.com`` → ``z***@example.com``; the length of the name is not shown."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


async def get_preferences(db: AsyncSession, party_id: int) -> Preferences:
    """The party's preferences; a party who never chose gets the in-portal notice only."""
    return preferences_of(party_id, await db.get(NotificationPreference, party_id))


def preferences_of(party_id: int, row: NotificationPreference | None) -> Preferences:
    """The preferences ``row`` holds (None: the party never chose), for a caller that read
    the row joined to what it read anyway."""
    if row is None:
        return Preferences(party_id, None, None, email_enabled=False, sms_enabled=False)
    return Preferences(party_id, row.email, row.mobile, row.email_enabled, row.sms_enabled)


_PREFERENCES = cast(Table, NotificationPreference.__table__)
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")


async def get_preferences_and_now(db: AsyncSession, party_id: int) -> tuple[Preferences, datetime]:
    """The party's preferences and ``database_now``, read in one statement.

    The outbox needs both for every event it writes; a legal act that notifies several parties
    would otherwise pay two round trips per party inside its transaction.
    """
    postgres = db.get_bind().dialect.name == "postgresql"
    clock = func.clock_timestamp(type_=DateTime(timezone=True)) if postgres else null()
    row = (await db.execute(
        select(clock, _PREFERENCES.c.email, _PREFERENCES.c.mobile, _PREFERENCES.c.email_enabled,
               _PREFERENCES.c.sms_enabled)
        .select_from(_ONE_ROW.outerjoin(_PREFERENCES, _PREFERENCES.c.party_id == party_id))
    )).one()
    now = row[0].astimezone(UTC) if postgres else utcnow()
    preferences = Preferences(party_id, row.email, row.mobile, bool(row.email_enabled),
                              bool(row.sms_enabled))
    return preferences, now


async def set_preferences(
    db: AsyncSession,
    party_id: int,
    *,
    email: str | None,
    mobile: str | None,
    email_enabled: bool,
    sms_enabled: bool,
    now: datetime | None = None,
) -> Preferences:
    """Store the party's choice; a channel can only be on with an address for it."""
    email = normalise_email(email) if email else None
    mobile = normalise_mobile(mobile) if mobile else None
    errors = {}
    if email_enabled and email is None:
        errors["email"] = "required"
    if sms_enabled and mobile is None:
        errors["mobile"] = "required"
    if errors:
        raise ValidationFailed(errors)
    when = now or await database_now(db)
    row = await db.get(NotificationPreference, party_id, with_for_update=True)
    if row is None:
        row = NotificationPreference(party_id=party_id)
        db.add(row)
    row.email, row.mobile = email, mobile
    row.email_enabled, row.sms_enabled = email_enabled, sms_enabled
    row.updated_at = when
    await db.flush()
    return Preferences(party_id, email, mobile, email_enabled, sms_enabled)
