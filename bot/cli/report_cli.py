"""`hocvuso report` (campaign report files) and `hocvuso demo-data` (a realistic commune)."""

from __future__ import annotations

import asyncio
import getpass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import common, demo_hints
from bot.cli.texts import c, num
from bot.reports.periods import (
    TZ,
    Period,
    calendar_range,
    current_report_year,
    parse_period,
    report_year,
)
from bot.reports.periods import phase as campaign_phase
from config.settings import Settings

ConfigOption = typer.Option(None, "--config", "-c", help=c("config"))
REPORTS_DIR = "bao-cao"  # inside the data directory, when --out is not given


def register(app: typer.Typer) -> None:
    """Add `report` and `demo-data` to the `hocvuso` command."""
    app.command("report", help=c("report"))(report)
    app.command("demo-data", help=c("demo"))(demo_data)


def done_figures(total: Any) -> dict[str, str]:
    """The totals a finished export names on the terminal (commune and province alike)."""
    return {
        "registered": num(total.registered),
        "new": num(total.new),
        "active": num(total.active),
        "completions": num(total.completions),
        "basic": num(total.basic_cum),
    }


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
    """The one period the options name; raises ValueError (in Vietnamese, for the
    officer) when they conflict or do not name a period."""
    if date_to is not None and date_from is None:
        raise ValueError(c("report_to_needs_from"))
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
        raise ValueError(c("report_choose_one", options=", ".join(given)))
    if period is not None:
        return _parse(period, launch=launch, now=now)
    if quarter is not None:
        if "-Q" not in quarter.upper():
            raise ValueError(c("report_quarter_bad", value=quarter))
        return _parse(quarter, launch=launch, now=now)
    if phase is not None:
        return campaign_phase(phase)
    if date_from is not None:
        last = date_to.date() if date_to is not None else now.astimezone(TZ).date()
        return calendar_range(date_from.date(), last)
    return report_year(current_report_year(now))


def _parse(spec: str, *, launch: date, now: datetime) -> Period:
    try:
        return parse_period(spec, launch=launch, now=now)
    except ValueError:
        raise ValueError(c("report_period_bad", spec=spec)) from None


def report(
    scope: str | None = typer.Argument(None, help=c("report_scope")),
    period: str | None = typer.Option(None, "--period", "-p", help=c("report_period")),
    date_from: datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"], help=c("report_from")
    ),
    date_to: datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help=c("report_to")
    ),
    quarter: str | None = typer.Option(None, "--quarter", help=c("report_quarter")),
    phase: int | None = typer.Option(None, "--phase", help=c("report_phase")),
    fmt: str = typer.Option("xlsx", "--format", "-f", help=c("report_format")),
    out: Path | None = typer.Option(None, "--out", "-o", help=c("report_out")),
    village: str | None = typer.Option(None, "--village", help=c("report_village")),
    names: bool = typer.Option(False, "--names", help=c("report_names")),
    template: Path | None = typer.Option(None, "--template", help=c("report_template")),
    commune_code: str | None = typer.Option(None, "--commune", help=c("commune_option")),
    province: str | None = typer.Option(None, "--province", help=c("report_province")),
    config: Path | None = ConfigOption,
) -> None:
    if scope is not None:
        if scope.strip().casefold() not in ("province", "tinh", "tỉnh"):
            typer.echo(c("report_scope_bad", value=scope), err=True)
            raise typer.Exit(2)
        if commune_code is not None or village is not None:  # a roll-up has every commune
            typer.echo(c("report_province_whole"), err=True)
            raise typer.Exit(2)
        from bot.cli.province_cli import province_report

        options = {"period": period, "date_from": date_from, "date_to": date_to}
        options |= {"quarter": quarter, "phase": phase}
        province_report(fmt=fmt, out=out, body=province, config=config, **options)
        return
    from bot.reports.exports import FORMATS, UnknownVillage, export_report, report_filename
    from storage.models import Commune, Village

    if fmt not in FORMATS:
        typer.echo(c("report_format_bad", formats=", ".join(FORMATS)), err=True)
        raise typer.Exit(2)
    if template is not None and not template.is_file():
        typer.echo(c("report_template_missing", path=template), err=True)
        raise typer.Exit(2)
    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> int:
        built = await common.build_or_exit(settings)
        try:
            commune_ref = common.commune_or_exit(built, commune_code)
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
            name = report_filename(commune_ref.code, chosen, fmt, village)
            target = out or settings.data_dir / REPORTS_DIR / name
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
            except UnknownVillage:
                async with built.database.session() as session:
                    codes = await session.scalars(
                        select(Village.code).where(Village.commune_id == commune_ref.id)
                    )
                    known = ", ".join(sorted(codes))
                typer.echo(c("report_unknown_village", code=village, known=known), err=True)
                return 2
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(export.data)
            total = export.report.total
            typer.echo(
                c(
                    "report_done",
                    path=target,
                    fmt=fmt,
                    size=num(len(export.data)),
                    scope=export.report.scope_name,
                    period=chosen.label,
                    **done_figures(total),
                    assisted_basic=num(total.assisted_basic),
                )
            )
            return 0
        finally:
            await built.close()

    code = asyncio.run(_go())
    if code:
        raise typer.Exit(code)


def demo_data(
    seed: int = typer.Option(1, "--seed", help=c("demo_seed")),
    residents: int = typer.Option(2000, "--residents", min=1, help=c("demo_residents")),
    months: int | None = typer.Option(None, "--months", min=1, max=120, help=c("demo_months")),
    commune_code: str | None = typer.Option(None, "--commune", help=c("commune_option")),
    config: Path | None = ConfigOption,
) -> None:
    from bot.reports import demo
    from storage.models import Commune, Person, Village
    from storage.team_models import Household

    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> int:
        built = await common.build_or_exit(settings)
        try:
            commune_id = common.commune_or_exit(built, commune_code).id
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
                    hint = _not_empty(settings, commune.name, people, homes, commune_code)
                    typer.echo(hint, err=True)
                    return 1
                villages, teams = await demo.commune_refs(conn, commune_id)
                now = built.engine.services.clock()
                span = months
                if span is None and now.date() <= commune.launch_date:
                    span = 12  # launch not yet reached: a year as planned
                rows = demo.generate(
                    commune_id=commune_id,
                    launch=commune.launch_date,
                    villages=villages,
                    teams=teams,
                    lessons=[(lesson.id, lesson.core) for lesson in curriculum.lessons.values()],
                    residents=residents,
                    months=span,
                    until=now,
                    seed=seed,
                    first_ids=await demo.next_ids(conn),
                )
                await demo.write_rows(conn, rows)
                accounts = await demo.add_console_accounts(conn, commune_id, now)
            counts = c("demo_counts", **{name: num(rows.count(name)) for name in demo.COLUMNS})
            typer.echo(c("demo_done", commune=commune.name, seed=seed, counts=counts))
            if accounts:
                async with built.database.session() as session:
                    user = await _example_user(session, commune_id, demo.CONSOLE_PREFIX)
                chat = demo_hints.command(f"chat --user {user}", config=config)
                typer.echo(c("demo_console", count=num(accounts), command=chat))
            return 0
        finally:
            await built.close()

    code = asyncio.run(_go())
    if code:
        raise typer.Exit(code)


def _not_empty(
    settings: Settings, commune: str, people: int | None, homes: int | None, code: str | None
) -> str:
    """Refusal to fill a database that has people: name a directory that is really new
    (or how to empty this one) and the exact commands for it."""
    counts = {"commune": commune, "people": num(people or 0), "homes": num(homes or 0)}
    if settings.database.url:  # a server database: no directory to suggest
        return c("demo_not_empty_url", **counts, database=settings.database.url.split("@")[-1])
    fresh = demo_hints.fresh_data_dir(settings.data_dir)
    return c(
        "demo_not_empty",
        **counts,
        database=settings.data_dir,
        load=demo_hints.command(
            "demo-data --seed 1" + (f" --commune {code}" if code else ""), data_dir=fresh
        ),
        report=demo_hints.command("report --period 2026 --format pdf", data_dir=fresh),
    )


async def _example_user(session: AsyncSession, commune_id: int, prefix: str) -> str:
    """A real console account the demo made, for the hint: the first resident's (a
    team member's chat opens on team tools, not on what residents see)."""
    from storage.models import ChannelAccount, Person
    from storage.team_models import StaffRole

    found = await session.scalar(
        select(ChannelAccount.external_id)
        .join(Person, Person.id == ChannelAccount.person_id)
        .where(
            Person.commune_id == commune_id,
            ChannelAccount.channel == "console",
            ChannelAccount.external_id.startswith(prefix),
            ~select(StaffRole.id).where(StaffRole.person_id == Person.id).exists(),
        )
        .order_by(ChannelAccount.person_id)
        .limit(1)
    )
    return found or f"{prefix}1"
