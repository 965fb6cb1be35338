"""Open data: every item public now, as CSV or JSON, streamed (``/publicity/export.csv|json``).

The same filters as the search page (agency, kind, region, decision dates) narrow it; the
keyword does not, since an export is for taking the data elsewhere. Rows come from
``publicity_search.export_items`` in chunks and leave as they come, so memory stays flat
whatever the size (``bench/publicity.py`` measures it on a million items). A withdrawn item
is a row with ``status`` ``withdrawn``, its reason and no content: open data must also say
what was taken back (APL art. 48).

JSON is for programs: stable English field names, codes, amounts in fen, instants in UTC.
CSV is for people opening it in a spreadsheet: Chinese column headers
(``catalogue.CSV_COLUMNS``), Chinese words for the codes, amounts in yuan, times in China
time; UTF-8 with a byte-order mark (spreadsheets then read the Chinese right), and any text
cell that a spreadsheet would run as a formula (= + - @ at the start) is prefixed with an
apostrophe (CSV injection). Exports are limited per client (``EXPORTS``): each one reads
everything.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from payments.money import format_yuan
from portal.catalogue import CSV_COLUMNS, PUBLICITY
from portal.errors import ValidationFailed
from portal.evidence_hash import instant_text
from portal.legal_calendar import CHINA_TZ as CHINA
from portal.services import publicity_search, rate_limits
from portal.services.publicity_search import PublicItem
from portal.web.client import public_read
from portal.web.clock import request_now
from portal.web.pages.publicity import parse_form

EXPORTS = rate_limits.Limit("publicity_export", requests=20, window_seconds=3600)
COLUMNS = (
    "id", "url", "status", "kind", "agency", "agency_case_number", "region_code", "party_kind",
    "party_name", "credit_code", "decision_date", "violation", "legal_basis", "result",
    "amount_fen", "version", "first_published_at", "published_at", "public_until",
    "withdrawn_at", "withdrawal_reason",
)
_BATCH = 200  # rows per chunk written to the socket
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record(item: PublicItem, public_url: str) -> dict[str, Any]:
    """One item as an open-data record (keys: ``COLUMNS``)."""
    content, withdrawal = item.content, item.withdrawal
    return {
        "id": item.id, "url": f"{public_url}/publicity/{item.id}",
        "status": "withdrawn" if withdrawal else "public", "kind": item.kind,
        "agency": item.agency_name, "agency_case_number": item.agency_case_number,
        "region_code": item.region_code,
        "party_kind": content.party_kind if content else None,
        "party_name": content.party_name if content else None,
        "credit_code": content.credit_code if content else None,
        "decision_date": item.decision_date.isoformat(),
        "violation": content.violation if content else None,
        "legal_basis": content.legal_basis if content else None,
        "result": content.result if content else None,
        "amount_fen": content.amount_fen if content else None,
        "version": item.version, "first_published_at": instant_text(item.first_published_at),
        "published_at": instant_text(item.published_at), "public_until": instant_text(item.public_until),
        "withdrawn_at": instant_text(withdrawal.withdrawn_at) if withdrawal else None,
        "withdrawal_reason": withdrawal.reason if withdrawal else None,
    }


async def export_csv(request: Request) -> Response:
    return await _export(request, "csv", _csv_chunks)


async def export_json(request: Request) -> Response:
    return await _export(request, "json", _json_chunks)


Chunks = Callable[[AsyncIterator[dict[str, Any]]], AsyncIterator[bytes]]


async def _export(request: Request, extension: str, chunks: Chunks) -> Response:
    async with public_read(request, EXPORTS) as db:
        agencies = await publicity_search.agency_choices(db)
    form = parse_form(request.query_params, {agency_id for agency_id, _ in agencies})
    if form.errors:
        raise ValidationFailed(form.errors)
    filters = replace(form.filters, keyword="")
    public_url = request.app.state.settings.public_url
    items = publicity_search.export_items(request.app.state.replica_sessions or request.app.state.sessions,
                                          filters, request_now(request))

    async def records() -> AsyncIterator[dict[str, Any]]:
        async for item in items:
            yield record(item, public_url)

    name = quote(f"{PUBLICITY['export_name']}.{extension}")
    media_type = "text/csv; charset=utf-8" if extension == "csv" else "application/json"
    return StreamingResponse(chunks(records()), media_type=media_type, headers={
        "content-disposition": f"attachment; filename=\"publicity.{extension}\"; filename*=UTF-8''{name}",
        "cache-control": "no-store", "x-content-type-options": "nosniff"})


async def _csv_chunks(records: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([CSV_COLUMNS[key] for key in COLUMNS])
    count = 0
    async for row in records:
        writer.writerow([_cell(value) for value in _for_people(row)])
        count += 1
        if count % _BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


async def _json_chunks(records: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    parts, first = ["["], True
    async for row in records:
        parts.append(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False))
        first = False
        if len(parts) >= _BATCH:
            yield "".join(parts).encode()
            parts = []
    parts.append("\n]\n")
    yield "".join(parts).encode()


_CHINA_INSTANTS = ("first_published_at", "published_at", "public_until", "withdrawn_at")


def _for_people(row: dict[str, Any]) -> list[Any]:
    """A record's values in ``COLUMNS`` order as a spreadsheet reader wants them."""
    shown = dict(row)
    shown["status"] = PUBLICITY[f"status.{row['status']}"]
    shown["kind"] = PUBLICITY.get(f"kind.{row['kind']}", row["kind"])
    if row["party_kind"]:
        shown["party_kind"] = PUBLICITY.get(f"party.{row['party_kind']}", row["party_kind"])
    if row["amount_fen"] is not None:
        shown["amount_fen"] = format_yuan(row["amount_fen"]).replace(",", "")
    for key in _CHINA_INSTANTS:
        if row[key]:
            shown[key] = datetime.fromisoformat(row[key]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    return [shown[key] for key in COLUMNS]


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
