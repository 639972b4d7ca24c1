"""bench/load.py on a small scale: three communes, ten residents through a whole lesson
and quiz over HTTP webhooks, two web processes and a scheduler on PostgreSQL. Every
journey completes with no error, no lost and no doubled step, the last line is one JSON
object, and the benchmark's database is gone afterwards. No timing is asserted."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load_cluster import multi_commune
from tests.conftest import PG_ADMIN_URL, pg_url

ROOT = Path(__file__).resolve().parents[1]
RESIDENTS = 10


async def test_a_small_load_run_is_clean_and_ends_with_one_json_line(tmp_path):
    await pg_url()  # skips (or fails under HOCVUSO_REQUIRE_PG=1) without PostgreSQL
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
    env["PYTHONPATH"] = str(ROOT)
    run = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "bench.load",
            "--communes",
            "3",
            "--residents",
            str(RESIDENTS),
            "--rate",
            "25",
            "--think",
            "0.3",
            "--tg-per-chat",
            "100",
            "--db-url",
            PG_ADMIN_URL,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    lines = run.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert isinstance(result, dict)
    assert (result["errors"], result["lost"], result["doubled"]) == (0, 0, 0), output[-4000:]
    assert result["journeys_completed"] == RESIDENTS
    assert result["communes"] == (3 if multi_commune() else 1)
    assert result["wrong_commune"] == 0
    assert set(result["peak_rss_mb"]) == {"web1", "web2", "scheduler"}
    assert all(mb and mb > 0 for mb in result["peak_rss_mb"].values())
    assert result["p99_ms"] is not None

    name = re.search(r"\((hocvuso_load_\d+)\)", run.stdout)
    assert name, run.stdout[:500]
    admin = create_async_engine(PG_ADMIN_URL)
    try:
        async with admin.connect() as conn:
            left = await conn.scalar(
                text("SELECT count(*) FROM pg_database WHERE datname = :name"),
                {"name": name[1]},
            )
    finally:
        await admin.dispose()
    assert left == 0, "the benchmark's database was not dropped"
