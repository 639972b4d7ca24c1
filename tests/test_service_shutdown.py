"""SIGTERM during load loses no recorded step.

`hocvuso run` runs in a subprocess with the Telegram channel polling a fake Bot API
(tests/fakes/telegram_api.py) while the test keeps feeding updates from 20 chats, then
sends SIGTERM midway. Telegram forgets an update once a later getUpdates carries a
higher offset, so the guarantees are:
- every update the fake saw acknowledged is recorded in the database (an acknowledged
  update is never redelivered, so an unprocessed one would be lost for good);
- every recorded update got its reply (each command here answers with one message),
  and none got two;
- after a restart the rest is processed; updates that were recorded but not yet
  acknowledged come again and are recognised as duplicates (no second reply).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.telegram_api import DEFAULT_TOKEN, SPEC_AVAILABLE, FakeTelegramAPI
from tests.test_service_cluster import free_port

ROOT = Path(__file__).resolve().parents[1]
# Long ids, so that no port number or timestamp in the logs can contain one by chance.
CHATS = [7_310_442_000 + n for n in range(20)]
COMMANDS = ["/menu", "/huongdan", "/baihoc"]  # each answers with exactly one message

pytestmark = pytest.mark.skipif(
    not (ROOT / "bot" / "channels" / "telegram" / "channel.py").exists(),
    reason="the Telegram channel (bot/channels/telegram/channel.py) is not there yet",
)


def start_service(tmp_path: Path, fake: FakeTelegramAPI, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HOCVUSO_DATA_DIR=str(tmp_path / "data"),
        HOCVUSO_TELEGRAM__TOKEN=DEFAULT_TOKEN,
        HOCVUSO_TELEGRAM__API_BASE=fake.base_url,
        HOCVUSO_WEB__PORT=str(free_port()),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--role", "all"],
        cwd=tmp_path,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


async def wait_until(predicate, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def wait_exit(proc: subprocess.Popen, within: float) -> int:
    deadline = time.monotonic() + within
    while proc.poll() is None:
        assert time.monotonic() < deadline, "the service did not stop in time"
        await asyncio.sleep(0.05)
    return proc.returncode


def recorded(tmp_path: Path) -> Counter:
    db = sqlite3.connect(tmp_path / "data" / "hocvuso.sqlite3")
    try:
        rows = db.execute(
            "select update_key from processed_updates where channel = 'telegram'"
        ).fetchall()
    finally:
        db.close()
    return Counter(int(key) for (key,) in rows)


def replies(fake: FakeTelegramAPI) -> Counter:
    return Counter(call.chat_id for call in fake.sent_messages() if call.ok)


async def test_sigterm_under_load_loses_no_recorded_step(tmp_path):
    log = tmp_path / "service.log"
    async with FakeTelegramAPI(rate_limits=False, spec_check=SPEC_AVAILABLE) as fake:
        fed: dict[int, int] = {}  # update_id -> chat
        proc = start_service(tmp_path, fake, log)
        try:
            await wait_until(lambda: fake.calls_to("getUpdates"), 30, "polling to start")
            commands = itertools.cycle(COMMANDS)

            def acknowledged() -> set[int]:
                return set(fed) - {u["update_id"] for u in fake.pending_updates}

            for _ in range(15):  # 300 updates queued at once: a burst of load
                for chat in CHATS:
                    update = fake.feed(fake.message_update(chat, next(commands)))
                    fed[update["update_id"]] = chat
            await wait_until(lambda: len(acknowledged()) >= 60, 20, "some acknowledgements")
            proc.send_signal(signal.SIGTERM)
            for chat in CHATS[:5]:  # still arriving while it shuts down
                update = fake.feed(fake.message_update(chat, "/menu"))
                fed[update["update_id"]] = chat
            assert await wait_exit(proc, 20) == 0

            done = recorded(tmp_path)
            acked = acknowledged()
            assert acked and acked <= set(done), "an acknowledged update was not recorded"
            assert len(done) < len(fed), "SIGTERM came too late to interrupt the load"
            per_chat = Counter(fed[update_id] for update_id in done)
            assert replies(fake) == per_chat  # every recorded step answered, once

            # Restart: the rest is processed; redelivered recorded updates are not redone.
            proc = start_service(tmp_path, fake, log)
            await wait_until(lambda: len(recorded(tmp_path)) == len(fed), 30, "the rest")
            await wait_until(lambda: not fake.pending_updates, 10, "acknowledgement")
            proc.send_signal(signal.SIGTERM)
            assert await wait_exit(proc, 20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert set(recorded(tmp_path)) == set(fed)
        assert max(recorded(tmp_path).values()) == 1
        assert replies(fake) == Counter(fed.values())
    text = log.read_text()
    assert "Traceback" not in text
    assert DEFAULT_TOKEN.split(":")[1] not in text  # no secret in the logs
    assert not any(str(chat) in text for chat in CHATS)  # nor who wrote
