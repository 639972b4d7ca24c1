"""Channels declare what they can do once (bot/core/channel_traits.py); the core, the
outbox, /lienket, report delivery and the registry read the declarations. A third
messenger ("pigeon", tests/fakes/pigeon) works by adding its package and declaration
only. And a deployment without Telegram never loads aiogram."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.registry import build_channels
from bot.core import channel_traits
from bot.outbox import throttles_from_settings
from config.settings import WebSettings
from tests.fakes import pigeon
from tests.support import Chat, make_app
from tests.team_support import grant, onboarded

ROOT = Path(__file__).resolve().parents[1]
CODE_SHOWN = re.compile(r"\b(\d{3}) (\d{3})\b")


@pytest.fixture
def with_pigeon():
    pigeon.register()
    yield pigeon.TRAITS
    del channel_traits.declared()[pigeon.TRAITS.name]


async def test_a_third_messenger_needs_only_its_package_and_declaration(
    with_pigeon, db_url, tmp_path, clock
) -> None:
    web = WebSettings(public_url="https://bot.hoa-an.example/", download_hours=24)
    app = await make_app(db_url, tmp_path, clock, web=web)
    try:
        # Served: the registry builds it from its declaration (no token set for the others).
        [channel] = build_channels(app)
        assert channel.name == "pigeon"
        # Throttled in the outbox at its declared rate.
        assert "pigeon" in throttles_from_settings(app.settings)

        # A resident onboards on it and reads choices as numbered lines (no buttons).
        resident = Chat(app, user="p-1", channel="pigeon", name="Bà Lan")
        await resident.onboard()
        await channel.send("p-1", resident.replies[-1].messages)
        shown = channel.sent[-1][1]
        assert "\n1. " in shown and "Trả lời bằng số" in shown

        # Linkable: /lienket on Telegram names it, and its code joins the learner.
        tg = Chat(app, user="tg-1", channel="telegram", name="Bà Lan")
        await tg.onboard()
        await tg.text("/lienket")
        assert "pigeon" in tg.last.text
        found = CODE_SHOWN.search(tg.last.text)
        assert found, tg.last.text
        newcomer = Chat(app, user="p-2", channel="pigeon", name="Bà Lan")
        await newcomer.text(found.group(1) + found.group(2))
        assert "Liên kết thành công" in newcomer.all_text()

        # It sends no files: a report comes as a download link, not a document.
        await onboarded(app, "m1", "member", village="T01")
        officer = Chat(app, user="p-officer", channel="pigeon", name="Cán bộ Hà")
        await officer.onboard(village="v:T02")
        await grant(app, officer, "commune_admin", None)
        await officer.text("/baocao")
        await officer.choose("p:y0")
        reply = await officer.choose("f:xlsx")
        assert [m for m in reply.messages if m.document is not None] == []
        assert "https://bot.hoa-an.example/files/" in reply.messages[-2].text
    finally:
        await app.close()


async def test_without_the_declaration_the_messenger_is_neither_served_nor_offered(
    sqlite_url, tmp_path, clock
) -> None:
    app = await make_app(sqlite_url, tmp_path, clock)
    try:
        assert build_channels(app) == []
        tg = Chat(app, user="tg-1", channel="telegram")
        await tg.onboard()
        await tg.text("/lienket")
        assert "pigeon" not in tg.last.text and "Zalo" in tg.last.text
    finally:
        await app.close()


MODULES_LOADED = """
import asyncio, json, sys, tempfile
from pathlib import Path
from bot.app import build_app
from bot.channels.registry import build_channels
from bot.service import _register_workers
from bot.web import build_web_app
import bot.cli.main
from config.settings import DatabaseSettings, Settings

async def main():
    work = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{work / 'db.sqlite3'}"
    extra = json.loads(sys.argv[1])
    settings = Settings(data_dir=work, database=DatabaseSettings(url=url), **extra)
    app = await build_app(settings)
    _register_workers()
    channels = build_channels(app)
    build_web_app(app.database, channels, texts=app.engine.services.texts)
    await app.close()
    print(json.dumps({"channels": [c.name for c in channels], "aiogram": "aiogram" in sys.modules}))

asyncio.run(main())
"""


def loaded(settings: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MODULES_LOADED, json.dumps(settings)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("settings", "channels"),
    [({"zalo": {"token": "zalo-token"}}, ["zalo"]), ({}, [])],
    ids=["zalo-only", "console-only"],
)
def test_a_deployment_without_telegram_never_imports_aiogram(settings, channels) -> None:
    assert loaded(settings) == {"channels": channels, "aiogram": False}


def test_a_telegram_bot_loads_aiogram_when_configured() -> None:
    assert loaded({"telegram": {"token": "123456:ABC-telegram"}}) == {
        "channels": ["telegram"],
        "aiogram": True,
    }


MIGRATED_ELSEWHERE = """
import asyncio, json, sys, tempfile
from pathlib import Path
from bot.app import build_app
from config.settings import DatabaseSettings, Settings

async def main():
    work = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{work / 'db.sqlite3'}"
    settings = Settings(data_dir=work, database=DatabaseSettings(url=url))
    app = await build_app(settings, migrate_in_child=True)  # as `hocvuso run` does
    at_head = await app.database.at_head()
    await app.close()
    again = await build_app(settings)  # an up-to-date schema: nothing to load either
    await again.close()
    print(json.dumps({"at_head": at_head, "alembic": "alembic" in sys.modules}))

asyncio.run(main())
"""


def test_the_service_keeps_alembic_out_of_its_process() -> None:
    """A new database is upgraded by a child process, and a current one is seen current
    without Alembic: the 12 MB Alembic and Mako hold stay out of the service."""
    done = subprocess.run(
        [sys.executable, "-c", MIGRATED_ELSEWHERE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"at_head": True, "alembic": False}
