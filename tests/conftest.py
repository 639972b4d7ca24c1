"""Shared fixtures. Database tests run on SQLite and on PostgreSQL.

PostgreSQL is used when reachable (HOCVUSO_TEST_PG_URL, default the local server's
`test` database); otherwise those tests skip with the reason. CI starts PostgreSQL and
sets HOCVUSO_REQUIRE_PG=1 so that a missing server fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import FakeClock

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get(
    "HOCVUSO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

_pg_state: dict[str, str | None] = {}


async def _create_pg_database() -> str:
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hocvuso_test_{uuid.uuid4().hex[:10]}"
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _drop_pg_database(url: str) -> None:
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def pg_url() -> str:
    """One throwaway database per test run, created on first use."""
    if "url" not in _pg_state:
        try:
            _pg_state["url"] = await asyncio.wait_for(_create_pg_database(), 10)
            _pg_state["error"] = None
        except Exception as exc:  # unreachable server, auth, ...
            _pg_state["url"] = None
            _pg_state["error"] = f"{type(exc).__name__}: {exc}"
    url = _pg_state["url"]
    if url is None:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({_pg_state['error']})"
        if os.environ.get("HOCVUSO_REQUIRE_PG"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    url = _pg_state.get("url")
    if url:
        asyncio.run(_drop_pg_database(url))


async def _reset_pg(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL with an empty schema; migrations run when the app is built."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url = await pg_url()
    await _reset_pg(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))


@pytest.fixture
def spec_path() -> Path:
    path = SHARED / "reference" / "telegram-bot-api" / "api.min.json"
    if not path.exists():
        pytest.skip(f"Telegram Bot API spec not found at {path} (../shared is absent)")
    return path


__all__ = ["FakeClock", "timedelta"]
