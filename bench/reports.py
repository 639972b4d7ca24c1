"""Benchmark: campaign reports on generated communes, SQLite and PostgreSQL.

SQLite: one commune of 20 villages, 20,000 residents and 1,000,000 participation events;
times the full annual report (every indicator at every level) and its renderings.
PostgreSQL: 100 communes and 10,000,000 events in a database created (and dropped) here;
times one commune's annual report and the province roll-up across all communes.

    .venv/bin/python -m bench.reports [--quick] [--pg-admin-url URL] [--no-pg] [--only cli]

Also times `hocvuso report --format xlsx|pdf|docx` on the demo commune end to end, from
process start (aim: under 2 s each).

Data comes from `bot.reports.demo` (a plausible funnel over 14 months) with a longer
synthetic curriculum, so that a resident averages about 50 events; the log is cut to
the exact event count. Rows go in with executemany (SQLite) and COPY (PostgreSQL).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.reports import demo
from bot.reports.compute import Programme, compute_report, province_rollup
from bot.reports.exports import render
from bot.reports.indicators import REPORT_INDEX_COLUMNS
from bot.reports.periods import report_year
from storage.db import Database
from storage.models import Commune, Team, Village

LAUNCH = date(2025, 10, 10)
MONTHS = 14  # the 2026 report year is fully covered
PERIOD = report_year(2026)
VILLAGES = 20


def lessons(count: int) -> list[tuple[str, bool]]:
    """A synthetic curriculum: the first four lessons are the basic programme."""
    return [(f"bai-{n:02d}", n < 4) for n in range(count)]


def programme(count: int) -> Programme:
    return Programme(tuple((lesson_id, lesson_id, core) for lesson_id, core in lessons(count)))


# Engaged residents (about 3.5 events per lesson, most go on to the next lesson).
PROFILE = demo.Profile(
    start_first_lesson=0.95,
    continue_next_lesson=0.98,
    complete_started_lesson=0.98,
    pass_each_attempt=0.8,
)


async def create_communes(database: Database, count: int, households: int) -> list[dict[str, Any]]:
    """Communes with VILLAGES villages and one team each; returns their ids and refs."""
    made = []
    async with database.engine.begin() as conn:
        for n in range(count):
            commune_id = await conn.scalar(
                insert(Commune)
                .values(code=f"x{n:03d}", name=f"Xã Thử {n}", unit_label="thôn", launch_date=LAUNCH)
                .returning(Commune.id)
            )
            villages, teams = [], []
            for v in range(VILLAGES):
                code = f"T{v + 1:02d}"
                village_id = await conn.scalar(
                    insert(Village)
                    .values(
                        commune_id=commune_id,
                        code=code,
                        name=f"Thôn {v + 1}",
                        households_total=households,
                        position=v,
                        active=True,
                    )  # fmt: skip
                    .returning(Village.id)
                )
                team_id = await conn.scalar(
                    insert(Team)
                    .values(
                        commune_id=commune_id,
                        village_id=village_id,
                        code=f"TCN-{code}",
                        name=f"Tổ công nghệ số cộng đồng thôn {v + 1}",
                    )  # fmt: skip
                    .returning(Team.id)
                )
                villages.append(demo.VillageRef(village_id, code, households))
                teams.append(demo.TeamRef(team_id, f"TCN-{code}", village_id))
            made.append({"id": commune_id, "villages": villages, "teams": teams})
    return made


def generate(commune: dict[str, Any], residents: int, events: int, lesson_count: int,
             seed: int, first_ids: dict[str, int]) -> demo.DemoRows:  # fmt: skip
    rows = demo.generate(
        commune_id=commune["id"], launch=LAUNCH, villages=commune["villages"],
        teams=commune["teams"], lessons=lessons(lesson_count), residents=residents,
        months=MONTHS, seed=seed, first_ids=first_ids, profile=PROFILE,
    )  # fmt: skip
    log = rows.tables["participation_events"]
    if len(log) < events:
        raise SystemExit(f"generated {len(log):,} events, fewer than {events:,}: add lessons")
    del log[events:]  # keep the earliest: as if the data ended a little sooner
    return rows


def advance(first_ids: dict[str, int], rows: demo.DemoRows) -> None:
    """Move the next free ids past the rows just generated."""
    for table, data in rows.tables.items():
        if data:
            first_ids[table] = max(row[0] for row in data) + 1


def timed(results: list[float]):  # type: ignore[no-untyped-def]
    class _Timer:
        def __enter__(self) -> None:
            self.start = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            results.append(time.perf_counter() - self.start)

    return _Timer()


# --- SQLite -------------------------------------------------------------------------


async def bench_sqlite(residents: int, events: int, lesson_count: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="hocvuso-bench-reports-"))
    database = Database(f"sqlite+aiosqlite:///{workdir / 'reports.sqlite3'}")
    await database.migrate()
    households = max(1, residents * 3 // 5 // VILLAGES)  # about 0.6 households a resident
    (commune,) = await create_communes(database, 1, households)
    started = time.perf_counter()
    async with database.engine.begin() as conn:
        first_ids = await demo.next_ids(conn)
    rows = generate(commune, residents, events, lesson_count, 1, first_ids)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    async with database.engine.begin() as conn:
        await demo.write_rows(conn, rows, chunk=50_000)
    loaded = time.perf_counter() - started
    print(
        f"SQLite: {residents:,} residents, {events:,} events in {VILLAGES} villages; "
        f"generated in {generated:.1f} s, written in {loaded:.1f} s"
    )
    runs: list[float] = []
    report = None
    for _ in range(3):
        with timed(runs):
            report = await compute_report(database, commune["id"], PERIOD, programme(lesson_count))
    assert report is not None
    print(
        "annual report, every indicator at every level: "
        + ", ".join(f"{r:.2f}" for r in runs)
        + " s (first run cold)"
    )
    # The covering index proposed for the event log (not in the schema yet).
    async with database.engine.begin() as conn:
        columns = ", ".join(REPORT_INDEX_COLUMNS)
        await conn.execute(
            text(f"CREATE INDEX ix_bench_report ON participation_events ({columns})")
        )
    indexed: list[float] = []
    for _ in range(3):
        with timed(indexed):
            await compute_report(database, commune["id"], PERIOD, programme(lesson_count))
    print("  with the proposed covering index: " + ", ".join(f"{r:.2f}" for r in indexed) + " s")
    renders = {}
    for fmt in ("csv", "xlsx", "docx", "html", "pdf"):
        started = time.perf_counter()
        render(report, fmt)
        renders[fmt] = round(time.perf_counter() - started, 2)
    print("rendering: " + ", ".join(f"{fmt} {s:.2f} s" for fmt, s in renders.items()))
    print(
        f"  {report.total.registered:,} registered, {report.total.completions:,} completions, "
        f"{report.total.basic_cum:,} finished the basic programme"
    )
    await database.dispose()
    await asyncio.to_thread(shutil.rmtree, workdir, True)
    return {
        "annual_report_s": round(min(runs), 3),
        "annual_report_median_s": round(statistics.median(runs), 3),
        "annual_report_cold_s": round(runs[0], 3),
        "annual_report_indexed_s": round(min(indexed), 3),
        "sqlite_generate_s": round(generated, 1),
        "sqlite_load_s": round(loaded, 1),
        "render_s": renders,
        "events": events,
        "residents": residents,
    }


# --- PostgreSQL ---------------------------------------------------------------------


async def copy_rows(database: Database, rows: demo.DemoRows) -> None:
    async with database.engine.begin() as conn:
        # Generated rows are consistent: skip the per-row foreign key triggers while
        # loading, as a bulk restore does (needs a superuser, as on a local server).
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        for table, columns in demo.COLUMNS.items():
            data = rows.tables[table]
            if table == "support_visits":  # COPY takes JSON as text
                index = columns.index("services")
                data = [(*r[:index], json.dumps(r[index]), *r[index + 1 :]) for r in data]
            if data:
                await driver.copy_records_to_table(table, records=data, columns=list(columns))


async def bench_postgres(admin_url: str, communes: int, events: int, residents: int,
                         lesson_count: int, *, keep: bool = False,
                         reuse: str | None = None) -> dict[str, Any]:  # fmt: skip
    """``keep``: leave the loaded database for a later ``reuse`` (by name), which times
    the reports again (after migrating it to the code's schema) without loading."""
    name = reuse or f"hocvuso_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    if reuse is None:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    database = Database(url)
    try:
        await database.migrate()
        if reuse is not None:
            return await time_postgres(database, lesson_count)
        households = max(1, residents * 3 // 5 // VILLAGES)
        made = await create_communes(database, communes, households)
        per_commune = events // communes
        async with database.engine.begin() as conn:
            first_ids = await demo.next_ids(conn)
        generated = loaded = 0.0
        for n, commune in enumerate(made):
            started = time.perf_counter()
            rows = generate(commune, residents, per_commune, lesson_count, 100 + n, first_ids)
            advance(first_ids, rows)
            generated += time.perf_counter() - started
            started = time.perf_counter()
            await copy_rows(database, rows)
            loaded += time.perf_counter() - started
        async with database.engine.begin() as conn:
            await demo.fix_sequences(conn)
        started = time.perf_counter()
        async with admin.connect() as conn:  # what autovacuum would do after a bulk load
            target = create_async_engine(url, isolation_level="AUTOCOMMIT")
            async with target.connect() as tconn:
                await tconn.execute(text("VACUUM ANALYZE"))
            await target.dispose()
        analysed = time.perf_counter() - started
        total = per_commune * communes
        print(
            f"PostgreSQL: {communes} communes x ({residents:,} residents, {per_commune:,} events)"
            f" = {total:,} events; generated in {generated:.1f} s, COPY in {loaded:.1f} s, "
            f"VACUUM ANALYZE in {analysed:.1f} s"
        )
        timings = await time_postgres(database, lesson_count)
        return timings | {"pg_generate_s": round(generated, 1), "pg_load_s": round(loaded, 1)}
    finally:
        await database.dispose()
        if keep or reuse:
            print(f"kept database {name} (--pg-reuse {name})")
        else:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def time_postgres(database: Database, lesson_count: int) -> dict[str, Any]:
    """One commune's annual report and the province roll-up, on a loaded database."""
    async with database.engine.connect() as conn:
        total = int(await conn.scalar(text("SELECT count(*) FROM participation_events")))
        ids = list(await conn.scalars(text("SELECT id FROM communes ORDER BY code")))
    plan = programme(lesson_count)
    one: list[float] = []
    for _ in range(3):
        with timed(one):
            await compute_report(database, ids[len(ids) // 2], PERIOD, plan)
    print("one commune's annual report: " + ", ".join(f"{r:.2f}" for r in one) + " s")
    rollup: list[float] = []
    busiest: list[float] = []
    for _ in range(3):
        before = await backend_cpu(database)
        with timed(rollup):
            rows_out = await province_rollup(database, PERIOD, plan)
        after = await backend_cpu(database)
        spent = [cpu - before.get(pid, 0.0) for pid, cpu in after.items()]
        busiest.append(max(spent, default=0.0))
    print(
        f"province roll-up of {len(rows_out)} communes and {total:,} events: "
        + ", ".join(f"{r:.2f}" for r in rollup)
        + " s"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if any(busiest):  # the server is on this machine: what the communes cost it
        print(
            "  CPU time of the busiest server process (the wall time on idle cores, one"
            f" share of communes per core): {', '.join(f'{b:.2f}' for b in busiest)} s;"
            f" load average {load}"
        )
    return {
        "commune_report_pg_s": round(statistics.median(one), 3),
        "province_rollup_s": round(min(rollup), 3),
        "province_rollup_busiest_cpu_s": round(min(busiest), 3) if any(busiest) else None,
        "load_average": load,
        "events_pg": total,
        "communes_pg": len(rows_out),
    }


async def backend_cpu(database: Database) -> dict[int, float]:
    """CPU seconds (user + system) of each server process serving this database, read
    from /proc: only when PostgreSQL runs on this machine (else empty). On a machine
    shared with other work, wall time says little; a process's CPU time does not
    depend on what else runs."""
    name = database.engine.url.database
    async with database.engine.connect() as conn:
        pids = list(
            await conn.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
        )
    return _cpu_seconds(pids)


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # another machine's process, or gone
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


# --- the command line, end to end -------------------------------------------------


def bench_cli(runs: int = 3) -> dict[str, Any]:
    """`hocvuso report --format xlsx|pdf|docx` on the demo commune, timed from process
    start to exit (imports, settings, database, figures, rendering, writing the file):
    what an officer waits for. Aim: under 2 s each."""
    workdir = Path(tempfile.mkdtemp(prefix="hocvuso-cli-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
    env["HOCVUSO_DATA_DIR"] = str(workdir / "data")
    command = [sys.executable, "-m", "bot.cli.main"]
    try:
        subprocess.run([*command, "demo-data", "--seed", "1"], env=env, check=True,
                       capture_output=True, cwd=workdir)  # fmt: skip
        result: dict[str, Any] = {}
        for fmt in ("xlsx", "pdf", "docx"):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run([*command, "report", "--period", "2026", "--format", fmt],
                               env=env, check=True, capture_output=True, cwd=workdir)  # fmt: skip
                times.append(time.perf_counter() - started)
            result[f"cli_report_{fmt}_s"] = round(statistics.median(times), 2)
        print(
            "hocvuso report on the demo commune (process start to exit, median of "
            f"{runs}): " + ", ".join(f"{k[11:-2]} {v:.2f} s" for k, v in result.items())
        )
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        sizes = {"residents": 2_000, "events": 100_000, "communes": 5, "pg_events": 500_000}
    else:
        sizes = {"residents": 20_000, "events": 1_000_000, "communes": 100, "pg_events": 10_000_000}
    result: dict[str, Any] = {
        "annual_report_s": None,
        "province_rollup_s": None,
        "commune_report_pg_s": None,
        "events": sizes["events"],
    }
    if args.only in (None, "cli"):
        result |= await asyncio.to_thread(bench_cli)
    if args.only in (None, "sqlite"):
        result |= await bench_sqlite(sizes["residents"], sizes["events"], args.lessons)
    if args.only in (None, "pg") and not args.no_pg:
        result |= await bench_postgres(
            args.pg_admin_url, sizes["communes"], sizes["pg_events"], args.pg_residents,
            args.pg_lessons, keep=args.pg_keep, reuse=args.pg_reuse,
        )  # fmt: skip
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--pg-admin-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL database to connect to while creating the benchmark's own",
    )  # fmt: skip
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--only", choices=("sqlite", "pg", "cli"), help="run one part only")
    parser.add_argument("--lessons", type=int, default=30, help="lessons (4 are core)")
    parser.add_argument("--pg-residents", type=int, default=5_000, help="per commune")
    parser.add_argument("--pg-lessons", type=int, default=8, help="lessons (4 are core)")
    parser.add_argument("--pg-keep", action="store_true", help="keep the loaded database")
    parser.add_argument("--pg-reuse", metavar="NAME", help="time a kept database again")
    outcome = asyncio.run(main(parser.parse_args()))
    print(json.dumps(outcome))
