"""Benchmark: every page of the web dashboard on the demo commune (2,000 residents,
12 months of activity) on SQLite, as an admin and as a team member.

    .venv/bin/python -m bench.web [--rounds 30] [--residents 2000]

Each page is requested `rounds` times one after the other through a local aiohttp
server; the time is the request's round trip on 127.0.0.1, so it bounds the server
time from above. Prints p50/p95 per page; the last line is one JSON object. Aim: every
page under 100 ms at p95.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import build_app
from bot.operations import web_access
from bot.reports import demo
from bot.web import build_web_app
from config.settings import DatabaseSettings, Settings
from storage import team_repo, web_repo
from storage.models import Person

ADMIN_PAGES = ["/web/", "/web/thon", "/web/thon/{village}", "/web/ho?thon={village}",
               "/web/ho/{household}", "/web/cau-hoi", "/web/thong-bao", "/web/bao-cao",
               "/web/nhat-ky"]  # fmt: skip
MEMBER_PAGES = ["/web/", "/web/thon/{village}", "/web/ho", "/web/ho?q=nguyen",
                "/web/ho/{household}", "/web/cau-hoi", "/web/bao-cao"]  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def staff(app: Any, role: str, team_code: str | None) -> str:
    """A staff person with a signed-in session; returns the session cookie."""
    services = app.engine.services
    now = services.clock()
    async with app.database.transaction() as session:
        team = await team_repo.team_by_code(session, services.communes.only.id, team_code or "")
        person = Person(
            commune_id=services.communes.only.id,
            display_name=f"Bench {role}",
            village_id=team.village_id if team else None,
            created_at=now,
        )
        session.add(person)
        await session.flush()
        await team_repo.grant_role(
            session,
            person_id=person.id,
            role=role,
            commune_id=services.communes.only.id,
            team_id=team.id if team else None,
            now=now,
        )
        token = await web_repo.create_sign_in(session, person.id, now, web_access.LINK_TTL)
    async with app.database.transaction() as session:
        opened = await web_access.sign_in(session, services.communes, token, now)
    assert opened is not None
    return opened.cookie


async def main(rounds: int, residents: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="hocvuso-bench-web-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    app = await build_app(Settings(data_dir=workdir, database=DatabaseSettings(url=url)))
    services = app.engine.services
    async with app.database.engine.begin() as conn:
        villages, teams = await demo.commune_refs(conn, services.communes.only.id)
        launch = services.clock().date().replace(day=1)
        rows = demo.generate(
            commune_id=services.communes.only.id,
            launch=launch.replace(year=launch.year - 1),
            villages=villages,
            teams=teams,
            lessons=[(x.id, x.core) for x in services.curriculum.lessons.values()],
            residents=residents,
            months=12,
            seed=1,
            first_ids=await demo.next_ids(conn),
        )
        await demo.write_rows(conn, rows)
    del rows  # a serving process holds no generated rows
    gc.collect()
    gc.freeze()  # as `hocvuso run` does once started (bot/service.py)
    async with app.database.session() as session:
        team_list = await team_repo.teams_of_commune(session, services.communes.only.id)
    team, village = team_list[0]
    async with app.database.session() as session:
        homes, _ = await team_repo.households_page(session, village.id, offset=0, limit=1)
    cookies = {
        "admin": await staff(app, "commune_admin", None),
        "member": await staff(app, "member", team.code),
    }
    server = TestServer(
        build_web_app(
            app.database, [], texts=services.texts, clock=services.clock, services=services
        )
    )
    await server.start_server()
    pages: dict[str, dict[str, float]] = {}
    try:
        for who, paths in (("admin", ADMIN_PAGES), ("member", MEMBER_PAGES)):
            async with ClientSession(cookies={"hvs_web": cookies[who]}) as client:
                for template in paths:
                    path = template.format(village=village.code, household=homes[0].id)
                    times = []
                    for _ in range(rounds + 1):
                        started = time.perf_counter()
                        async with client.get(server.make_url(path)) as response:
                            await response.read()
                            assert response.status == 200, (who, path, response.status)
                        times.append((time.perf_counter() - started) * 1000)
                    times = times[1:]  # the first request warms caches
                    pages[f"{who} {template}"] = {
                        "p50_ms": round(percentile(times, 0.5), 1),
                        "p95_ms": round(percentile(times, 0.95), 1),
                    }
                    shown = pages[f"{who} {template}"]
                    print(f"{who:6} {template:24} p50 {shown['p50_ms']:7.1f} ms"
                          f"  p95 {shown['p95_ms']:7.1f} ms")  # fmt: skip
    finally:
        await server.close()
        await app.close()
    worst = max(v["p95_ms"] for v in pages.values())
    return {
        "bench": "web",
        "database": "sqlite",
        "residents": residents,
        "rounds": rounds,
        "pages": pages,
        "worst_p95_ms": worst,
        "under_100ms": worst < 100,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--residents", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.rounds, args.residents)), ensure_ascii=False))
