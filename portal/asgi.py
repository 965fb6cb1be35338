"""The application factory that ``portal serve --workers N`` hands uvicorn: every server
process (uvicorn's workers are separate interpreters) reads the settings from the environment
it was started with, as the command did, and builds its own app, engine and pools."""

from __future__ import annotations

from starlette.applications import Starlette

from portal.app import create_app
from portal.logs import configure_logging
from portal.settings import load_settings


def application() -> Starlette:
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
