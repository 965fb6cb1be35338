"""The one URL map of the portal: every page and API route, in one list."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from portal.web.pages import account, home
from portal.web.rendering import TEMPLATES_DIR

STATIC_DIR = TEMPLATES_DIR.parent / "static"


def routes() -> list[BaseRoute]:
    return [
        Route("/", home.home, name="home"),
        Route("/healthz", home.healthz, name="healthz"),
        Route("/account", account.account, name="account"),
        Route("/logout", account.logout, methods=["POST"], name="logout"),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
