"""Fixtures of the page tests: a case of 张三's and one of his company's, registered through the services."""

from __future__ import annotations

import pytest_asyncio

from tests.builders import PageWorld, page_world
from tests.conftest import Database


@pytest_asyncio.fixture(loop_scope="session")
async def world(database: Database) -> PageWorld:
    return await page_world(database)
