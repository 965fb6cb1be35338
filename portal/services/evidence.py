"""Appending to and verifying the legal event log (see ``portal.models.evidence``).

``append`` locks the chain's head row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one
writer at a time), links the new row to the previous hash and advances the head, all inside
the caller's transaction: the event exists exactly when the legal act it records committed.
``append_all`` does the same for several events of one act (an order paid and its payment):
each linked to the one before it exactly as separate appends would link them, with one lock,
one insert and one move of the head.
``verify_chains`` walks every chain and reports the first broken link of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple, cast

from sqlalchemy import Row, Select, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from portal.database import database_now, insert_ignoring
from portal.evidence_hash import GENESIS, canonical_json, event_hash
from portal.models.evidence import ChainHead, EvidenceEvent

_Row = TypeVarTuple("_Row")
# Core statements built once: the rows are only written, and the ORM's unit of work cost
# twice the CPU of these two statements for the same rows
_INSERT_EVENTS = insert(cast(Table, EvidenceEvent.__table__))
_HEADS = cast(Table, ChainHead.__table__)
_MOVE_HEAD = (update(_HEADS).where(_HEADS.c.chain == bindparam("head_chain"))
              .values(seq=bindparam("head_seq"), hash=bindparam("head_hash")))


async def lock(db: AsyncSession, chain: str) -> ChainHead:
    """Hold the chain's head until the transaction ends: acts that must be ordered against
    every other act on the same subject (a delivery against a revocation) take it first.
    Returns the head, read under the lock; ``append(..., head=...)`` writes after it."""
    return await _locked_head(db, chain)


@dataclass(frozen=True)
class Entry:
    """One event for ``append_all``: what ``append`` takes, but the chain."""

    kind: str
    actor: str
    payload: dict[str, Any]
    occurred_at: datetime | None = None
    """None: the database clock *now*, as in ``append``."""


def locking_head(db: AsyncSession, query: Select[*_Row]) -> Select[*_Row]:
    """``query`` (which reads one chain's ``ChainHead``, joined to whatever else it reads)
    taking that head's lock as ``lock`` does, and reading the head after the lock: a caller
    that reads under a lock of its own anyway saves the round trip of ``lock`` (then passes
    the head to ``append``)."""
    query = query.execution_options(populate_existing=True)
    return query.with_for_update(of=ChainHead) if db.get_bind().dialect.name == "postgresql" else query


async def append(db: AsyncSession, *, chain: str, kind: str, actor: str, payload: dict[str, Any],
                 occurred_at: datetime | None = None, head: ChainHead | None = None) -> EvidenceEvent:
    """Append one event; ``occurred_at`` defaults to the database clock *now*, read after the
    chain lock is held, so that event times in one chain never go backwards. ``head``: what
    ``lock`` returned for this chain earlier in the same transaction (saves locking again)."""
    [event] = await append_all(db, chain=chain, entries=[Entry(kind, actor, payload, occurred_at)], head=head)
    return event


async def append_all(db: AsyncSession, *, chain: str, entries: Sequence[Entry],
                     head: ChainHead | None = None) -> list[EvidenceEvent]:
    """Append ``entries`` in their order, as that many ``append`` calls would (the same
    sequence numbers, links and hashes), in three statements whatever their number."""
    if not entries:
        raise ValueError("nothing to append")
    if head is None:
        head = await _locked_head(db, chain)
    elif head.chain != chain:
        raise ValueError(f"the head of {head.chain!r} given to append to {chain!r}")
    now = await database_now(db) if any(e.occurred_at is None for e in entries) else None
    seq, prev_hash = head.seq, head.hash
    rows = []
    for entry in entries:
        occurred_at = entry.occurred_at or now
        if occurred_at is None:
            raise RuntimeError("the database clock was read for an entry without its time")
        seq += 1
        payload_text = canonical_json(entry.payload)
        digest = event_hash(chain=chain, seq=seq, kind=entry.kind, occurred_at=occurred_at,
                            actor=entry.actor, payload=payload_text, prev_hash=prev_hash)
        rows.append({"chain": chain, "seq": seq, "kind": entry.kind, "occurred_at": occurred_at,
                     "actor": entry.actor, "payload": payload_text, "prev_hash": prev_hash,
                     "hash": digest})
        prev_hash = digest
    await db.flush()  # what the caller added before, written first as the one flush wrote it
    await db.execute(_MOVE_HEAD, {"head_chain": chain, "head_seq": seq, "head_hash": prev_hash})
    await db.execute(_INSERT_EVENTS, rows)  # one INSERT of every row
    set_committed_value(head, "seq", seq)  # as written: nothing left for a flush to update
    set_committed_value(head, "hash", prev_hash)
    return [EvidenceEvent(**row) for row in rows]


async def _locked_head(db: AsyncSession, chain: str) -> ChainHead:
    """The chain's head, locked. Every chain but a new one has its head already, so it is
    read first (one round trip) and only created when absent; concurrent creators do not
    collide (the insert ignores the row another one made) and then both lock that row.
    populate_existing: a copy read earlier in this session, before the lock, may be stale."""
    query = (select(ChainHead).where(ChainHead.chain == chain).with_for_update()
             .execution_options(populate_existing=True))
    head = (await db.execute(query)).scalar_one_or_none()
    if head is None:
        await db.execute(insert_ignoring(db, ChainHead, ["chain"]).values(chain=chain, seq=0, hash=GENESIS))
        head = (await db.execute(query)).scalar_one()
    return head


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    chains: int
    events: int
    broken: tuple[BrokenLink, ...]

    @property
    def ok(self) -> bool:
        return not self.broken


class _ChainWalk:
    """The state of walking one chain in order; remembers only the first broken link."""

    def __init__(self, chain: str) -> None:
        self.chain = chain
        self.seq = 0
        self.prev = GENESIS
        self.broken: BrokenLink | None = None

    def step(self, row: Row[Any]) -> None:
        if self.broken:
            return
        self.seq += 1
        if row.seq != self.seq:
            self.broken = BrokenLink(self.chain, self.seq, row.id, "missing event (sequence gap)")
        elif row.prev_hash != self.prev:
            self.broken = BrokenLink(self.chain, row.seq, row.id, "link to the previous event does not match")
        elif event_hash(chain=row.chain, seq=row.seq, kind=row.kind, occurred_at=row.occurred_at,
                        actor=row.actor, payload=row.payload, prev_hash=row.prev_hash) != row.hash:
            self.broken = BrokenLink(self.chain, row.seq, row.id, "content does not match its hash")
        self.prev = row.hash

    def finish(self, head: ChainHead | None) -> BrokenLink | None:
        if self.broken:
            return self.broken
        if head is None or head.seq != self.seq or head.hash != self.prev:
            return BrokenLink(self.chain, self.seq + 1, None, "events missing at the end of the chain")
        return None


async def verify_chains(db: AsyncSession, chain: str | None = None) -> ChainReport:
    """Walk every chain (or one) in order, streaming, and report the first broken link of each."""
    # Plain rows, not ORM objects: nothing accumulates in the session's identity map.
    events_table = EvidenceEvent.__table__
    query = select(events_table).order_by(events_table.c.chain, events_table.c.seq)
    heads_query = select(ChainHead)
    if chain is not None:
        query = query.where(events_table.c.chain == chain)
        heads_query = heads_query.where(ChainHead.chain == chain)
    heads = {h.chain: h for h in (await db.execute(heads_query)).scalars()}
    walks: dict[str, _ChainWalk] = {}
    events = 0
    rows = await db.stream(query.execution_options(yield_per=1000))
    async for row in rows:
        walk = walks.get(row.chain)
        if walk is None:
            walk = walks[row.chain] = _ChainWalk(row.chain)
        walk.step(row)
        events += 1
    for name in heads.keys() - walks.keys():  # a chain whose events are all gone
        walks[name] = _ChainWalk(name)
    broken = [problem for name in sorted(walks)
              if (problem := walks[name].finish(heads.get(name))) is not None]
    return ChainReport(len(walks), events, tuple(broken))
