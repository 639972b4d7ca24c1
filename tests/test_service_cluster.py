"""Two `hocvuso run --role all` processes on one PostgreSQL database: exactly one holds
the scheduler lease and queues the nudges and digests, each exactly once; killing it
(SIGKILL, no goodbye) hands the role to the other within the lease time, and the new
leader's catch-up run queues nothing twice.

No messenger token is set, so nothing is sent: the assertions are on the outbox and the
lease row. Quiet hours are switched off and the nudge and digest hours are set to the
current local hour (with generous grace windows) so that the test runs at any time."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage.db import Database
from storage.delivery_models import Lease, OutboxMessage
from storage.models import ChannelAccount, ConsentRecord, Person, Team, Village
from storage.team_models import StaffRole
from tests.conftest import _reset_pg, pg_url
from tests.support import make_app

ROOT = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 3
RESIDENTS, MEMBERS = 20, 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def seed(url: str, tmp_path: Path) -> None:
    """Residents who consented two days ago, plus two members of Thôn Đông's team."""
    app = await make_app(url, tmp_path)
    long_ago = datetime.now(UTC) - timedelta(days=2)
    try:
        async with app.database.transaction() as session:
            village = await session.scalar(select(Village).where(Village.code == "T01"))
            team = await session.scalar(select(Team).where(Team.code == "TCN-T01"))
            for n in range(RESIDENTS + MEMBERS):
                person = Person(
                    commune_id=village.commune_id, village_id=village.id, created_at=long_ago
                )
                session.add(person)
                await session.flush()
                session.add_all(
                    [
                        ConsentRecord(
                            person_id=person.id, notice_version="t", answer="agreed", at=long_ago
                        ),
                        ChannelAccount(
                            channel="telegram",
                            external_id=str(1000 + n),
                            person_id=person.id,
                            screen={"name": "menu", "args": {}, "offered": []},
                            active=True,
                            created_at=long_ago,
                            last_seen_at=long_ago,
                        ),
                    ]
                )
                if n >= RESIDENTS:
                    session.add(
                        StaffRole(
                            person_id=person.id,
                            role="member",
                            commune_id=village.commune_id,
                            team_id=team.id,
                            created_at=long_ago,
                        )
                    )
    finally:
        await app.close()


class Service:
    def __init__(self, name: str, env: dict[str, str], tmp_path: Path) -> None:
        self.log_path = tmp_path / f"{name}.log"
        self.log = self.log_path.open("w")
        env = {**env, "HOCVUSO_WEB__PORT": str(free_port())}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "run", "--role", "all"],
            cwd=tmp_path,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self, pattern: str) -> list[str]:
        return [line for line in self.log_path.read_text().splitlines() if re.search(pattern, line)]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.log.close()


async def until(predicate, within: float, what: str):
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_two_processes_one_scheduler_and_a_quick_hand_over(tmp_path):
    url = await pg_url()  # skips (or fails under HOCVUSO_REQUIRE_PG=1) without PostgreSQL
    await _reset_pg(url)
    await seed(url, tmp_path)
    local = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HOCVUSO_DATA_DIR=str(tmp_path / "data"),
        HOCVUSO_DATABASE__URL=url,
        HOCVUSO_SCHEDULER__LEASE_SECONDS=str(LEASE_SECONDS),
        HOCVUSO_SCHEDULER__QUIET_START="0",
        HOCVUSO_SCHEDULER__QUIET_END="0",
        HOCVUSO_SCHEDULER__NUDGE_HOUR=str(local.hour),
        HOCVUSO_SCHEDULER__GRACE_MINUTES="120",
        HOCVUSO_SCHEDULER__DIGEST_WEEKDAY=str(local.weekday()),
        HOCVUSO_SCHEDULER__DIGEST_HOUR=str(local.hour),
    )
    database = Database(url)

    async def queued() -> Counter:
        async with database.session() as session:
            rows = await session.execute(
                select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
            )
            return Counter(dict(rows.all()))

    async def holder_pid() -> int | None:
        async with database.session() as session:
            lease = await session.scalar(select(Lease).where(Lease.name == "scheduler"))
        return int(lease.holder.split(":")[1]) if lease else None

    services = [Service("a", env, tmp_path), Service("b", env, tmp_path)]
    try:
        expected = Counter(nudge=RESIDENTS + MEMBERS, digest=MEMBERS)
        try:
            await until(lambda: _equal(queued(), expected), 60, f"outbox to hold {expected}")
        except AssertionError as exc:  # show what the services said
            logs = "\n".join(s.log_path.read_text()[-2000:] for s in services)
            raise AssertionError(f"{exc}\n{logs}") from None
        await asyncio.sleep(0.5)  # a while longer: nothing more may be queued
        assert await queued() == expected
        by_pid = {s.pid: s for s in services}
        leader = by_pid[await holder_pid()]
        other = next(s for s in services if s is not leader)
        assert len(leader.lines(r'msg="lease acquired"')) == 1
        assert other.lines(r'msg="lease acquired"') == []
        assert other.lines(r"job=nudges") == []

        leader.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await until(lambda: _is(holder_pid(), other.pid), LEASE_SECONDS + 4, "the take-over")
        took = time.monotonic() - killed_at
        assert took < LEASE_SECONDS + LEASE_SECONDS / 3 + 1.5, took
        # The new leader catches up at once and finds everything queued already.
        await until(lambda: _true(other.lines(r"job=nudges")), 10, "the catch-up run")
        assert "enqueued=0" in other.lines(r"job=nudges")[0]
        assert await queued() == expected

        other.proc.send_signal(signal.SIGTERM)
        assert other.proc.wait(15) == 0
        assert await holder_pid() is None  # handed back on a graceful stop
        assert not any("Traceback" in s.log_path.read_text() for s in services)
    finally:
        for service in services:
            service.close()
        await database.dispose()


async def _equal(value, expected) -> bool:
    return (await value) == expected


async def _is(value, expected) -> bool:
    return (await value) == expected


async def _true(value) -> bool:
    return bool(value)
