"""`hocvuso import villages|households FILE`, `hocvuso admin add`, `hocvuso invite create`,
`hocvuso households codes`.

Imports check every row first and write all of them in one transaction, or nothing;
problems are printed as `file:line: reason` (exit 1). Every command is audited with the
operating-system user as the actor (`cli:<user>`).
"""

from __future__ import annotations

import asyncio
import csv
import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.cli import common
from bot.team import invites, options
from storage import imports, team_repo
from storage.models import Commune, Village
from storage.team_models import ROLES

T = TypeVar("T")

ConfigOption = typer.Option(None, "--config", "-c", help="TOML settings file (or HOCVUSO_CONFIG).")
CommuneOption = typer.Option(
    None, "--commune", help="Commune code (default: the one in the commune file)."
)


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli:unknown"


def _run(config: Path | None, work: Callable[[App], Awaitable[T]]) -> T:
    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def go() -> T:
        app = await common.build_or_exit(settings)
        try:
            return await work(app)
        finally:
            await app.close()

    return asyncio.run(go())


async def _commune(app: App, code: str | None) -> Commune:
    async with app.database.session() as session:
        if code is None:
            commune = await session.get(Commune, app.engine.services.commune.id)
        else:
            commune = await session.scalar(select(Commune).where(Commune.code == code))
    if commune is None:
        typer.echo(f"unknown commune {code!r}", err=True)
        raise typer.Exit(2)
    return commune


def _print_invite(info: invites.InviteInfo, tz: ZoneInfo) -> None:
    typer.echo(
        f"invite code: {info.code}  (role {info.role}"
        + (f", team {info.team})" if info.team else ")")
    )
    typer.echo(
        f"uses: {info.uses}, expires: {info.expires_at.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"
    )
    if info.link:
        typer.echo(f"Telegram: {info.link}")
    else:
        typer.echo(f"Telegram: send the bot  /start {info.payload}")
    typer.echo(f"Zalo: send the bot the message  {info.payload}")


def register(app: typer.Typer) -> None:
    """Add the import, admin and invite command groups to the `hocvuso` app."""
    import_app = typer.Typer(
        help="Import villages and households (CSV or XLSX).", no_args_is_help=True
    )
    admin_app = typer.Typer(help="Commune and deployment admins.", no_args_is_help=True)
    invite_app = typer.Typer(help="Invite codes for team members and admins.", no_args_is_help=True)
    app.add_typer(import_app, name="import")
    app.add_typer(admin_app, name="admin")
    app.add_typer(invite_app, name="invite")
    households_app = typer.Typer(help="Household codes for residents.", no_args_is_help=True)
    app.add_typer(households_app, name="households")

    @households_app.command("codes")
    def household_codes(
        out: Path = typer.Option(..., "--out", help="CSV file to write (opens in Excel)."),
        village: str | None = typer.Option(None, "--village", help="Only this village code."),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """The code each household types in /ho, to print and hand over. Audited."""

        async def work(app: App) -> int:
            target = await _commune(app, commune)
            async with app.database.transaction() as session:
                rows = await team_repo.resident_codes(session, target.id, village)
                team_repo.audit(
                    session,
                    actor(),
                    "households.codes_export",
                    target.id,
                    village=village,
                    rows=len(rows),
                )
            with out.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["Mã thôn", "Mã hộ", "Chủ hộ", "Mã cho người dân"])
                writer.writerows(rows)
            return len(rows)

        count = _run(config, work)
        typer.echo(f"{count} household code(s) written to {out}")

    @import_app.command("villages")
    def import_villages(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX."),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Villages: Mã thôn, Tên thôn, Tổng số hộ (headers with or without diacritics)."""
        rows = _parse(lambda: imports.parse_villages(file))

        async def work(app: App) -> imports.ImportResult:
            target = await _commune(app, commune)
            texts = app.engine.services.texts
            async with app.database.transaction() as session:
                return await imports.write_villages(
                    session,
                    target.id,
                    rows,
                    team_name=lambda name: texts("team.default_team_name", village=name),
                    now=app.engine.services.clock(),
                    actor=actor(),
                    file=file.name,
                )

        result = _run(config, work)
        typer.echo(
            f"villages imported from {file}: {result.added} added, {result.updated} updated, "
            f"{result.teams_added} team(s) created"
        )

    @import_app.command("households")
    def import_households(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX."),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Households: Mã hộ, Chủ hộ, Mã thôn (the village must exist)."""

        async def work(app: App) -> imports.ImportResult | list[imports.Problem]:
            target = await _commune(app, commune)
            async with app.database.transaction() as session:
                codes = {v.code for v in await _villages(session, target.id)}
                try:
                    rows = imports.parse_households(file, codes)
                except imports.ImportProblems as exc:
                    return exc.problems
                return await imports.write_households(
                    session,
                    target.id,
                    rows,
                    now=app.engine.services.clock(),
                    actor=actor(),
                    file=file.name,
                )

        result = _run(config, work)
        if isinstance(result, list):
            _fail(result)
        typer.echo(
            f"households imported from {file}: {result.added} added, {result.updated} updated"
        )

    @admin_app.command("add")
    def admin_add(
        name: str = typer.Option(..., "--name", help="Who the admin is (kept in the audit log)."),
        commune: str = typer.Option(..., "--commune", help="Commune code."),
        role: str = typer.Option(
            "commune_admin", "--role", help="commune_admin | deployment_admin"
        ),
        days: int = typer.Option(7, "--days", help="Days the one-time code stays valid."),
        config: Path | None = ConfigOption,
    ) -> None:
        """Make a one-time invite for an admin, to be claimed in chat (consent first)."""
        if role not in team_repo.ADMIN_ROLES:
            typer.echo("--role must be commune_admin or deployment_admin", err=True)
            raise typer.Exit(2)
        _invite(config, role=role, commune=commune, team=None, uses=1, days=days, name=name)

    @invite_app.command("create")
    def invite_create(
        role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
        team: str | None = typer.Option(None, "--team", help="Team code (members and leaders)."),
        uses: int = typer.Option(1, "--uses", help="How many people may use it."),
        days: int = typer.Option(7, "--days", help="Days it stays valid."),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Make an invite code: `/start inv_<code>` on Telegram, the code as text on Zalo."""
        _invite(config, role=role, commune=commune, team=team, uses=uses, days=days, name=None)


def _invite(
    config: Path | None,
    *,
    role: str,
    commune: str | None,
    team: str | None,
    uses: int,
    days: int,
    name: str | None,
) -> None:
    async def work(app: App) -> invites.InviteInfo | str:
        target = await _commune(app, commune)
        async with app.database.transaction() as session:
            team_row = await team_repo.team_by_code(session, target.id, team) if team else None
            if team and team_row is None:
                return f"unknown team {team!r} in commune {target.code}"
            detail = {"name": name, "via": "admin add"} if name else {}
            try:
                return await invites.create_invite(
                    session,
                    role=role,
                    commune_id=target.id,
                    team=team_row,
                    uses=uses,
                    days=days,
                    actor=actor(),
                    now=app.engine.services.clock(),
                    username=options.telegram_username(app.settings),
                    **detail,
                )
            except invites.InviteError as exc:
                return str(exc)

    result = _run(config, work)
    if isinstance(result, str):
        typer.echo(result, err=True)
        raise typer.Exit(2)
    _print_invite(result, ZoneInfo(common.settings_or_exit(config).timezone))


async def _villages(session: AsyncSession, commune_id: int) -> list[Village]:
    return list(await session.scalars(select(Village).where(Village.commune_id == commune_id)))


def _parse(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except imports.ImportProblems as exc:
        _fail(exc.problems)
        raise  # not reached


def _fail(problems: list[imports.Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem))
    typer.echo(f"{len(problems)} problem(s); nothing was imported", err=True)
    raise typer.Exit(1)
