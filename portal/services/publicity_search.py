"""Public search over published enforcement information, and the public projection of an item.

Only what is public *now* is ever read: every query carries ``published_at <= now <
public_until`` (``visible``), so an item leaves pages, search and export the instant its window
ends, with no job involved (FJ art. 21). Results are ``PublicItem`` values built from chosen
columns, never ORM objects (ASVS v5.0.0-15.3.1); a withdrawn item is a notice with its reason
and no content (APL art. 48).

Order: newest decision first, then newest publication (``decision_date``, ``id`` descending),
paged by keyset (``Cursor``), so page 500 costs what page 1 costs.

Keywords match substrings of the masked party name, credit code, case number and texts
(``ingest.search_text``). Chinese has no spaces, so both databases use trigram indexes
(migration 0050): FTS5 ``trigram`` on SQLite, ``pg_trgm`` GIN on PostgreSQL. A keyword is
searched in two steps, because a trigram index answers "which rows match" but not "which match
is newest", and a common word matches a third of the table:

1. the newest ``PROBE_ROWS`` rows that pass the filters are checked by plain substring search
   (``strpos``/``instr``, cheaper than LIKE), which fills the page at once for any common
   word; a word found a few times there is looked for further back, as far as its density
   says a page needs (up to ``SHORT_SCAN_ROWS``); and when no more rows than that pass the
   filters, this step alone answers exactly;
2. otherwise matches are rare among the newest rows, so likely rare overall: the trigram index
   finds them all (on PostgreSQL ANDed with the filters' indexes; asked for the term's
   selective pieces, ``index_pieces``) and they are sorted.

A trigram index cannot look up a term of one or two characters (two-character words such as
食品 or a surname are common), so a keyword made only of such terms is looked for among the next
``SHORT_SCAN_ROWS`` rows that pass the filters; when older ones remain, the page says so and
its next-page link goes on from there (``SearchPage.short_scan``). Cost stays bounded either
way.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, column, func, select, table, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.errors import NotFound
from portal.models.agencies import Agency
from portal.models.publicity import Publication, PublicationVersion, PublicationWithdrawal
from portal.publicity.ingest import PublicContent, for_search
from portal.publicity.window import WithdrawalGround

PAGE_SIZE = 20
PROBE_ROWS = 1000  # a word in 2 % of the rows fills a page from these; measured on 1M rows
SHORT_SCAN_ROWS = 5000
FTS_FEW = 5000  # SQLite step 2 (``_sqlite_index_step``)
FILTER_SCAN_ROWS = 20_000
TRIGRAM = 3
MAX_TERMS = 5
MAX_TERM_LENGTH = 50
EXPORT_CHUNK = 1000
MAX_ID = 2**63 - 1

_P = Publication.__table__
_V = PublicationVersion.__table__
_A = Agency.__table__
_W = PublicationWithdrawal.__table__
_FTS = table("publication_search", column("rowid"))  # SQLite only (migration 0050)
_PIECE = re.compile(r"[^\w]+")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")


@dataclass(frozen=True)
class SearchFilters:
    keyword: str = ""
    agency_id: int | None = None
    kind: str | None = None
    region_code: str | None = None
    decided_from: date | None = None
    decided_to: date | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """The keyword's words (split at spaces), normalised like ``search_text``."""
        printable = "".join(char for char in for_search(self.keyword) if char.isprintable())
        words = dict.fromkeys(printable.split())
        return tuple(word[:MAX_TERM_LENGTH] for word in words)[:MAX_TERMS]


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last item's decision date and id (no personal data)."""

    decision_date: date
    id: int

    def encode(self) -> str:
        return f"{self.decision_date.isoformat()}.{self.id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        day, _, number = (value or "").partition(".")
        if not (number.isascii() and number.isdigit() and len(number) <= 19):
            return None
        try:
            return cls(date.fromisoformat(day), int(number))
        except ValueError:
            return None


@dataclass(frozen=True)
class WithdrawalNotice:
    withdrawn_at: datetime
    ground: WithdrawalGround
    reason: str


@dataclass(frozen=True)
class PublicItem:
    """One item as the public may see it: masked content, or only the withdrawal notice."""

    id: int
    kind: str
    agency_name: str
    agency_case_number: str
    region_code: str
    decision_date: date
    version: int
    first_published_at: datetime
    published_at: datetime
    public_until: datetime
    content: PublicContent | None
    withdrawal: WithdrawalNotice | None
    versions_published_at: tuple[datetime, ...] = ()

    @property
    def changed(self) -> bool:
        return self.version > 1


@dataclass(frozen=True)
class SearchPage:
    """One page; ``short_scan``: a keyword of 1-2 characters was looked for among the next
    ``SHORT_SCAN_ROWS`` candidates only and older ones remain, from ``next_cursor`` on."""

    items: tuple[PublicItem, ...]
    next_cursor: Cursor | None
    short_scan: bool


async def agency_choices(db: AsyncSession) -> list[tuple[int, str]]:
    """Every agency by name, for the search filter: a short table, read per request."""
    rows = await db.execute(select(_A.c.id, _A.c.name).order_by(_A.c.name))
    return [(row.id, row.name) for row in rows]


def visible(now: datetime) -> ColumnElement[bool]:
    """Public at ``now``: inside the item's window (FJ art. 21)."""
    return and_(_P.c.published_at <= now, _P.c.public_until > now)


async def search(db: AsyncSession, filters: SearchFilters, now: datetime, *,
                 cursor: Cursor | None = None, page_size: int = PAGE_SIZE) -> SearchPage:
    """One page of public items matching ``filters``, newest first (module docstring)."""
    terms = filters.terms
    short = bool(terms) and all(len(term) < TRIGRAM for term in terms)
    ids, stopped_at = await _matching_ids(db, terms, _conditions(filters, now, cursor), page_size + 1, short)
    items = await _items(db, ids[:page_size], now)
    if len(ids) > page_size and items:
        return SearchPage(tuple(items), Cursor(items[-1].decision_date, items[-1].id), False)
    return SearchPage(tuple(items), stopped_at, stopped_at is not None)


async def public_item(db: AsyncSession, publication_id: int, now: datetime) -> PublicItem:
    """The detail page's item with the dates of its versions; ``NotFound`` outside its window."""
    found = await _items(db, [publication_id], now) if 0 < publication_id <= MAX_ID else []
    if not found:
        raise NotFound()
    history = (await db.execute(select(_V.c.published_at).where(_V.c.publication_id == publication_id)
                                .order_by(_V.c.version))).scalars().all()
    return replace(found[0], versions_published_at=tuple(history))


async def export_items(sessions: async_sessionmaker[AsyncSession], filters: SearchFilters,
                       now: datetime) -> AsyncIterator[PublicItem]:
    """Every public item matching the filters (not the keyword), newest first, streamed.

    PostgreSQL: one read-only REPEATABLE READ transaction and a server-side cursor
    (``yield_per``), so the export is the set public at one instant, in bounded memory.
    SQLite: keyset chunks, each in its own short transaction, because every SQLite
    transaction here takes the write lock (``BEGIN IMMEDIATE``) and an export must not hold
    off publishing for its whole length; an item published meanwhile may or may not appear.
    """
    query = _projection(now).where(*_conditions(filters, now, None))
    async with sessions() as db:
        if db.get_bind().dialect.name == "postgresql":
            await db.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                                   "postgresql_readonly": True})
            rows = await db.stream(_ordered(query).execution_options(yield_per=EXPORT_CHUNK))
            async for row in rows:
                yield _item(row)
            return
    cursor: Cursor | None = None
    while True:
        async with sessions() as db:
            chunk_query = query.where(*_conditions(SearchFilters(), now, cursor))
            chunk = [_item(row) for row in await db.execute(_ordered(chunk_query).limit(EXPORT_CHUNK))]
        for item in chunk:
            yield item
        if len(chunk) < EXPORT_CHUNK:
            return
        cursor = Cursor(chunk[-1].decision_date, chunk[-1].id)


def _conditions(filters: SearchFilters, now: datetime, cursor: Cursor | None) -> list[ColumnElement[bool]]:
    conditions = [visible(now)]
    if filters.agency_id is not None:
        conditions.append(_P.c.agency_id == filters.agency_id)
    if filters.kind:
        conditions.append(_P.c.kind == filters.kind)
    if filters.region_code:
        conditions.append(_P.c.region_code == filters.region_code)
    if filters.decided_from:
        conditions.append(_P.c.decision_date >= filters.decided_from)
    if filters.decided_to:
        conditions.append(_P.c.decision_date <= filters.decided_to)
    if cursor is not None:
        conditions.append(tuple_(_P.c.decision_date, _P.c.id) < tuple_(cursor.decision_date, cursor.id))
    return conditions


def _ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(_P.c.decision_date.desc(), _P.c.id.desc())


def _like(column: Any, term: str) -> ColumnElement[bool]:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result: ColumnElement[bool] = column.like(f"%{escaped}%", escape="\\")
    return result


async def _matching_ids(db: AsyncSession, terms: Sequence[str], conditions: list[ColumnElement[bool]],
                        limit: int, short: bool) -> tuple[list[int], Cursor | None]:
    """Up to ``limit`` matching ids, newest first; for a short keyword whose bounded scan
    stopped before the oldest candidate, also where it stopped (the next page goes on)."""
    if not terms:
        query = _ordered(select(_P.c.id).where(*conditions)).limit(limit)
        return list((await db.execute(query)).scalars()), None
    # step 1: the newest rows passing the filters, checked by plain substring search
    postgres = db.get_bind().dialect.name == "postgresql"
    bound = SHORT_SCAN_ROWS if short else PROBE_ROWS
    ids = await _probe(db, terms, conditions, bound, limit, postgres)
    if not short and 2 <= len(ids) < limit:
        # common enough that reading on is cheaper than the index: about twice the rows this
        # density needs to fill the page (the scan stops as soon as it is full)
        bound = min(SHORT_SCAN_ROWS, PROBE_ROWS * limit * 2 // len(ids))
        ids = await _probe(db, terms, conditions, bound, limit, postgres)
    if len(ids) == limit:
        return ids, None
    last_seen = await _nth(db, conditions, bound)
    if short or last_seen is None:  # short: that is all a page looks at; None: it saw everything
        return ids, last_seen
    # step 2: few matches among the newest rows, so likely few overall: ask the trigram index
    if postgres:
        likes = [_like(_P.c.search_text, piece) for t in terms for piece in index_pieces(t)]
        exact = [func.strpos(_P.c.search_text, t) > 0 for t in terms]
        matches = select(_P.c.id, _P.c.decision_date).where(*conditions, *likes, *exact).cte().prefix_with(
            "MATERIALIZED")
        query = (select(matches.c.id).order_by(matches.c.decision_date.desc(), matches.c.id.desc())
                 .limit(limit))
        return list((await db.execute(query)).scalars()), None
    return await _sqlite_index_step(db, terms, conditions, limit), None


async def _sqlite_index_step(db: AsyncSession, terms: Sequence[str], conditions: list[ColumnElement[bool]],
                             limit: int) -> list[int]:
    """Step 2 on SQLite, whose planner cannot AND an FTS5 match with a B-tree filter cheaply:
    with few FTS matches (under ``FTS_FEW``), join them to the filters; with many, and few
    rows passing the filters (up to ``FILTER_SCAN_ROWS``), check those rows instead; with many
    of both, join all matches (slow, and rare: step 1 then usually filled the page)."""
    pieces = [piece for t in terms if len(t) >= TRIGRAM for piece in index_pieces(t)]
    match = text("publication_search MATCH :phrases").bindparams(
        phrases=" AND ".join('"' + piece.replace('"', '""') + '"' for piece in pieces))
    shorts = [func.instr(_P.c.search_text, t) > 0 for t in terms]  # exact, and the short ones
    capped = select(_FTS.c.rowid).where(match).limit(FTS_FEW).subquery()
    few = (await db.execute(select(func.count()).select_from(capped))).scalar_one() < FTS_FEW
    if not few and await _nth(db, conditions, FILTER_SCAN_ROWS) is None:
        query = select(_P.c.id).where(*conditions, *(func.instr(_P.c.search_text, t) > 0 for t in terms))
    else:
        query = select(_P.c.id).select_from(_FTS.join(_P, _P.c.id == _FTS.c.rowid)) \
            .where(match, *conditions, *shorts)
    return list((await db.execute(_ordered(query).limit(limit))).scalars())


def index_pieces(term: str) -> list[str]:
    """What the trigram index is asked for a term (the term itself is checked exactly after):
    its runs of letters and digits between punctuation, of 3+ characters, except years. A year
    (〔2025〕 in a case number, 2025年 in a text) is in nearly every item, and an index must read
    every item's entry of each of its trigrams: asked for 榕人社罚〔2025〕146号 whole, pg_trgm
    takes ten times as long as for 榕人社罚 and 146号. A term with no such run is asked whole."""
    pieces = [piece for piece in _PIECE.split(term) if len(piece) >= TRIGRAM and not _YEAR.fullmatch(piece)]
    return pieces or [term]


async def _probe(db: AsyncSession, terms: Sequence[str], conditions: list[ColumnElement[bool]],
                 bound: int, limit: int, postgres: bool) -> list[int]:
    """Matches among the newest ``bound`` rows passing ``conditions``, newest first."""
    contains = func.strpos if postgres else func.instr
    newest = _ordered(select(_P.c.id, _P.c.decision_date, _P.c.search_text).where(*conditions)) \
        .limit(bound).subquery()
    probe = (select(newest.c.id).where(*(contains(newest.c.search_text, t) > 0 for t in terms))
             .order_by(newest.c.decision_date.desc(), newest.c.id.desc()).limit(limit))
    return list((await db.execute(probe)).scalars())


async def _nth(db: AsyncSession, conditions: list[ColumnElement[bool]], n: int) -> Cursor | None:
    """The ``n``-th newest row passing ``conditions``, if there are more than ``n``."""
    query = _ordered(select(_P.c.decision_date, _P.c.id).where(*conditions)).offset(n - 1).limit(2)
    rows = (await db.execute(query)).all()
    return Cursor(rows[0].decision_date, rows[0].id) if len(rows) == 2 else None


def _projection(now: datetime) -> Select[Any]:
    return (
        select(_P.c.id, _P.c.kind, _A.c.name.label("agency_name"), _P.c.agency_case_number,
               _P.c.region_code, _P.c.decision_date, _P.c.version, _P.c.first_published_at,
               _P.c.published_at, _P.c.public_until, _V.c.party_kind, _V.c.party_name,
               _V.c.credit_code, _V.c.violation, _V.c.legal_basis, _V.c.result, _V.c.amount_fen,
               _W.c.withdrawn_at, _W.c.ground, _W.c.reason.label("withdrawal_reason"))
        .select_from(_P.join(_V, and_(_V.c.publication_id == _P.c.id, _V.c.version == _P.c.version))
                     .join(_A, _A.c.id == _P.c.agency_id)
                     .outerjoin(_W, _W.c.publication_id == _P.c.id))
    )


async def _items(db: AsyncSession, ids: Sequence[int], now: datetime) -> list[PublicItem]:
    if not ids:
        return []
    rows = await db.execute(_projection(now).where(_P.c.id.in_(ids), visible(now)))
    by_id = {row.id: _item(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _item(row: Any) -> PublicItem:
    withdrawn = row.withdrawn_at is not None
    return PublicItem(
        id=row.id, kind=row.kind, agency_name=row.agency_name,
        agency_case_number=row.agency_case_number, region_code=row.region_code,
        decision_date=row.decision_date, version=row.version,
        first_published_at=row.first_published_at, published_at=row.published_at,
        public_until=row.public_until,
        content=None if withdrawn else PublicContent(
            party_kind=row.party_kind, party_name=row.party_name, credit_code=row.credit_code,
            violation=row.violation, legal_basis=row.legal_basis, result=row.result,
            amount_fen=row.amount_fen, decision_date=row.decision_date, region_code=row.region_code),
        withdrawal=WithdrawalNotice(row.withdrawn_at, WithdrawalGround(row.ground), row.withdrawal_reason)
        if withdrawn else None,
    )
