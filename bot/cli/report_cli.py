"""`hocvuso report` (campaign report files) and `hocvuso demo-data` (a realistic commune)."""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from sqlalchemy import func, select

from bot.cli import common
from bot.reports.periods import (
    TZ,
    Period,
    calendar_range,
    current_report_year,
    parse_period,
    report_year,
)
from bot.reports.periods import phase as campaign_phase

ConfigOption = typer.Option(None, "--config", "-c", help="TOML settings file (or HOCVUSO_CONFIG).")
PERIOD_HELP = (
    "Report year 2026 (15/12/2025-14/12/2026), half 2026-H1, quarter 2026-Q2, "
    "month 2026-05, phase1, all (since launch) or 2026-01-01..2026-03-31. "
    "Default: the current report year."
)


def register(app: typer.Typer) -> None:
    """Add `report` and `demo-data` to the `hocvuso` command."""
    app.command("report")(report)
    app.command("demo-data")(demo_data)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (some containers)
        return "cli:unknown"


def choose_period(
    *,
    period: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    quarter: str | None,
    phase: int | None,
    launch: date,
    now: datetime,
) -> Period:
    """The one period the options name; raises ValueError when they conflict."""
    if date_to is not None and date_from is None:
        raise ValueError("--to needs --from")
    given = [
        name
        for name, value in (
            ("--period", period),
            ("--from", date_from),
            ("--quarter", quarter),
            ("--phase", phase),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ValueError(f"choose one of {', '.join(given)}")
    if period is not None:
        return parse_period(period, launch=launch, now=now)
    if quarter is not None:
        if "-Q" not in quarter.upper():
            raise ValueError(f"--quarter expects YYYY-Qn, e.g. 2026-Q2, got {quarter!r}")
        return parse_period(quarter, launch=launch, now=now)
    if phase is not None:
        return campaign_phase(phase)
    if date_from is not None:
        last = date_to.date() if date_to is not None else now.astimezone(TZ).date()
        return calendar_range(date_from.date(), last)
    return report_year(current_report_year(now))


def report(
    period: str | None = typer.Option(None, "--period", "-p", help=PERIOD_HELP),
    date_from: datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"], help="First day (calendar range)."
    ),
    date_to: datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help="Last day, included (default: today)."
    ),
    quarter: str | None = typer.Option(None, "--quarter", help="Report quarter, e.g. 2026-Q2."),
    phase: int | None = typer.Option(None, "--phase", help="Campaign phase: 1 or 2."),
    fmt: str = typer.Option("xlsx", "--format", "-f", help="xlsx | csv | docx | pdf | html"),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default: a name)."),
    village: str | None = typer.Option(None, "--village", help="Only this village (its code)."),
    names: bool = typer.Option(
        False, "--names", help="Show team members' names in the emulation annex (admins)."
    ),
    template: Path | None = typer.Option(
        None, "--template", help="The commune's own Word template (for --format docx)."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Write the campaign report for a period; every export goes to the audit log."""
    from bot.reports.exports import FORMATS, UnknownVillage, export_report, report_filename
    from storage.models import Commune

    if fmt not in FORMATS:
        typer.echo(f"--format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    if template is not None and not template.is_file():
        typer.echo(f"{template}: template file not found", err=True)
        raise typer.Exit(2)
    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> int:
        built = await common.build_or_exit(settings)
        try:
            commune_ref = built.engine.services.commune
            async with built.database.session() as session:
                commune = await session.get(Commune, commune_ref.id)
                assert commune is not None
                launch = commune.launch_date
            try:
                chosen = choose_period(
                    period=period,
                    date_from=date_from,
                    date_to=date_to,
                    quarter=quarter,
                    phase=phase,
                    launch=launch,
                    now=datetime.now(UTC),
                )
            except ValueError as exc:
                typer.echo(str(exc), err=True)
                return 2
            target = out or Path(report_filename(commune_ref.code, chosen, fmt, village))
            try:
                export = await export_report(
                    built.database,
                    commune_ref.id,
                    chosen,
                    fmt,
                    village_code=village,
                    include_names=names,
                    actor=_actor(),
                    curriculum=built.engine.services.curriculum,
                    docx_template=template,
                )
            except UnknownVillage as exc:
                typer.echo(str(exc), err=True)
                return 2
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(export.data)
            total = export.report.total
            scope = f"{commune_ref.name}" + (f" / {village}" if village else "")
            typer.echo(
                f"{target}: {fmt}, {len(export.data):,} bytes; {scope}; {chosen.label}; "
                f"{total.registered} residents registered ({total.new} new), "
                f"{total.active} learning, {total.completions} lesson completions, "
                f"{total.basic_cum} finished the basic programme"
            )
            return 0
        finally:
            await built.close()

    code = asyncio.run(_go())
    if code:
        raise typer.Exit(code)


def demo_data(
    seed: int = typer.Option(1, "--seed", help="Same seed, same data."),
    residents: int = typer.Option(2000, "--residents", min=1, help="How many residents."),
    months: int = typer.Option(12, "--months", min=1, max=120, help="Months after launch."),
    config: Path | None = ConfigOption,
) -> None:
    """Fill the configured database with a realistic commune (only if it has no people)."""
    from bot.reports import demo
    from storage.models import Commune, Person, Village
    from storage.team_models import Household

    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> int:
        built = await common.build_or_exit(settings)
        try:
            commune_id = built.engine.services.commune.id
            curriculum = built.engine.services.curriculum
            async with built.database.engine.begin() as conn:
                commune = (
                    await conn.execute(select(Commune).where(Commune.id == commune_id))
                ).one()
                people = await conn.scalar(
                    select(func.count()).select_from(Person).where(Person.commune_id == commune_id)
                )
                homes = await conn.scalar(
                    select(func.count())
                    .select_from(Household)
                    .join(Village, Village.id == Household.village_id)
                    .where(Village.commune_id == commune_id)
                )
                if people or homes:
                    typer.echo(
                        f"{commune.name} already has {people} people and {homes} households; "
                        "demo data goes into an empty commune (use a new database).",
                        err=True,
                    )
                    return 1
                villages, teams = await demo.commune_refs(conn, commune_id)
                rows = demo.generate(
                    commune_id=commune_id,
                    launch=commune.launch_date,
                    villages=villages,
                    teams=teams,
                    lessons=[(lesson.id, lesson.core) for lesson in curriculum.lessons.values()],
                    residents=residents,
                    months=months,
                    seed=seed,
                    first_ids=await demo.next_ids(conn),
                )
                await demo.write_rows(conn, rows)
                accounts = await demo.add_console_accounts(
                    conn, commune_id, built.engine.services.clock()
                )
            counts = ", ".join(f"{rows.count(name):,} {name}" for name in demo.COLUMNS)
            typer.echo(f"demo data for {commune.name} (seed {seed}): {counts}")
            typer.echo(
                f"{accounts:,} console accounts: `hocvuso chat --user {demo.CONSOLE_PREFIX}<id>` "
                "talks as that person and sees what the bot sent them"
            )
            return 0
        finally:
            await built.close()

    code = asyncio.run(_go())
    if code:
        raise typer.Exit(code)
