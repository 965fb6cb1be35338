"""Jinja2 rendering: full pages, or one named block of the same template for htmx.

A fragment is the block the full page includes (htmx essay "Template Fragments"), so a page
without JavaScript and an htmx swap show the same thing. Responses that depend on
``HX-Request`` say so with ``Vary``; pages with personal data are never cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from portal import references
from portal.catalogue.regulations import regulation
from portal.legal_calendar import day_text, time_text
from portal.web.auth import ACTING_NOTICE
from portal.web.csrf import csrf_token
from portal.web.session import browser_session
from portal.web.static_assets import assets

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def _yuan(fen: int) -> str:
    """Integer fen shown as yuan with two decimals; no float ever touches money."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["china_time"] = time_text
    env.filters["china_day"] = day_text
    env.filters["reference"] = references.reference
    env.filters["grouped"] = references.grouped_digits
    env.filters["yuan"] = _yuan
    env.globals["static_url"] = assets.url
    return env


environment = _environment()


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template``; with ``HX-Request`` and a ``block``, only that block."""
    session = browser_session(request)
    fragment = bool(block) and is_htmx(request)
    desk = request.app.state.settings.service_desk
    values = {
        "request": request,
        "csrf_token": csrf_token(request),
        "user": session.data.get("user") if session else None,
        # shown once, by the next full page (a fragment has no place for it)
        "acting_notice": session.pop(ACTING_NOTICE) if session and not fragment else None,
        "request_id": request.scope.get("state", {}).get("request_id", "-"),
        "desk": desk,
        "session_idle_seconds": request.app.state.settings.session_idle_minutes * 60,
        "regulation": regulation(desk.province),
        **(context or {}),
    }
    # the title says 错误： on an error page and on a form shown again with its errors
    values["page_error"] = status >= 400 or bool(values.get("errors"))
    compiled = environment.get_template(template)
    if block and fragment:
        body = "".join(compiled.blocks[block](compiled.new_context(values)))
    else:
        body = compiled.render(values)
    response = HTMLResponse(body, status_code=status, headers=headers)
    if block:
        response.headers["vary"] = "HX-Request"
    response.headers["cache-control"] = "private, no-store"  # every page carries its CSRF token
    return response
