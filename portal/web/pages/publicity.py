"""The public's window on enforcement: search and read published information (公示).

    GET /publicity                 search form and results; ``?q=&agency=&kind=&region=&from=
                                   &to=&after=`` (htmx swaps the ``results`` block as filters
                                   change and pushes the URL; without JavaScript the form
                                   submits and the page reloads with the same block)
    GET /publicity/{id}            one item: masked content, that and when it was changed, or
                                   the withdrawal notice with its reason (APL art. 48)
    GET /publicity/export.csv|json the open-data export (``publicity_export``)

No login. Everything shown is a ``PublicItem`` projection of what is public now
(``services.publicity_search``; ASVS v5.0.0-15.3.1): an item past its window answers 404
like one that never existed, and no page may be indexed or cached by search engines, whose
copies would outlive the window. Searching is limited per client (``SEARCHES``; SECURITY.md
"Business logic"); item pages are not (they are what the export holds anyway). The keyword
never reaches a log (the access log records the path only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from portal import fields
from portal.catalogue import PUBLICITY, PUBLICITY_REGIONS
from portal.errors import NotFound
from portal.publicity.ingest import Kind
from portal.services import objections, publicity_search, rate_limits
from portal.services.publicity_search import Cursor, SearchFilters, SearchPage
from portal.web.client import public_read
from portal.web.clock import request_now
from portal.web.rendering import render

SEARCHES = rate_limits.Limit("publicity_search", requests=120, window_seconds=60)
MAX_KEYWORD = 100
_PARAMS = ("q", "agency", "kind", "region", "from", "to")
# A search engine's copy would outlive the window (FJ art. 21): the portal is the one place to look.
_NO_INDEX = {"x-robots-tag": "noindex, noarchive"}


@dataclass(frozen=True)
class SearchForm:
    """The form's values as typed (echoed back) and the filters they make, or errors."""

    values: dict[str, str]
    filters: SearchFilters
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, **extra: str) -> str:
        """The query string of this search (empty values left out), plus ``extra``."""
        pairs = {name: value for name, value in {**self.values, **extra}.items() if value}
        return urlencode(pairs)


def parse_form(params: Mapping[str, str], agency_ids: set[int]) -> SearchForm:
    """Read the filters; a bad value is named in ``errors`` (a user's words: the catalogue)."""
    values = {name: params.get(name, "").strip() for name in _PARAMS}
    values["q"] = values["q"][:MAX_KEYWORD]
    errors: dict[str, str] = {}
    agency_id = int(values["agency"]) if values["agency"].isdigit() else None
    if values["agency"] and agency_id not in agency_ids:
        errors["agency"] = PUBLICITY["error.agency"]
    if values["kind"] and values["kind"] not in {k.value for k in Kind}:
        errors["kind"] = PUBLICITY["error.kind"]
    if values["region"] and values["region"] not in PUBLICITY_REGIONS:
        errors["region"] = PUBLICITY["error.region"]
    dates: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:  # a search may name any day; only the format is checked (``portal.fields``)
            dates[name] = (fields.day(values[name], earliest=date.min, latest=date.max)
                           if values[name] else None)
        except fields.FieldError:
            dates[name] = None
            errors[name] = PUBLICITY["error.date"]
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        errors["to"] = PUBLICITY["error.date_order"]
    filters = SearchFilters(keyword=values["q"], agency_id=agency_id, kind=values["kind"] or None,
                            region_code=values["region"] or None, decided_from=dates["from"],
                            decided_to=dates["to"])
    return SearchForm(values, filters, errors)


async def search_page(request: Request) -> Response:
    async with public_read(request, SEARCHES) as db:
        agencies = await publicity_search.agency_choices(db)
        form = parse_form(request.query_params, {agency_id for agency_id, _ in agencies})
        page = SearchPage((), None, False)
        if not form.errors:
            page = await publicity_search.search(db, form.filters, request_now(request),
                                                 cursor=Cursor.parse(request.query_params.get("after")))
        objected = await objections.open_on(db, [item.id for item in page.items])
    return render(request, "pages/publicity/search.html", {
        "form": form, "page": page, "agencies": agencies, "objected": objected,
        "errors": form.errors,  # 错误： in <title>
        "kinds": [(k.value, PUBLICITY[f"kind.{k.value}"]) for k in Kind],
        "regions": PUBLICITY_REGIONS, "names": PUBLICITY,
        "paged": "after" in request.query_params,
        "next_url": f"/publicity?{form.query(after=page.next_cursor.encode())}" if page.next_cursor else None,
        "first_url": f"/publicity?{form.query()}",
        "export_query": form.query(q=""),
    }, block="results", headers=_NO_INDEX)


async def detail_page(request: Request) -> Response:
    async with public_read(request) as db:
        try:
            item = await publicity_search.public_item(db, request.path_params["publication_id"],
                                                      request_now(request))
        except NotFound:
            return render(request, "pages/publicity/detail.html", {"item": None}, status=404,
                          headers=_NO_INDEX)
        under_objection = (await objections.open_on(db, [item.id])).get(item.id)
    return render(request, "pages/publicity/detail.html", {
        "item": item, "names": PUBLICITY, "regions": PUBLICITY_REGIONS,
        "under_objection": under_objection}, headers=_NO_INDEX)
