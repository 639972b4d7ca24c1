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
from bot.cli.texts import c
from bot.team import invites, options
from storage import imports, team_repo
from storage.models import Commune, Village
from storage.team_models import ROLES

T = TypeVar("T")

ConfigOption = typer.Option(None, "--config", "-c", help=c("config"))
CommuneOption = typer.Option(None, "--commune", help=c("commune_option"))


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
    """The commune of `--commune` (default: the commune file's). Codes match ignoring
    case when that names exactly one commune: "HOA-AN" is "hoa-an"."""
    async with app.database.session() as session:
        if code is None:
            only = common.commune_or_exit(app, None)
            commune = await session.get(Commune, only.id)
            known = [commune] if commune else []
        else:
            known = list(await session.scalars(select(Commune).order_by(Commune.code)))
            exact = [row for row in known if row.code == code]
            folded = [row for row in known if row.code.casefold() == code.strip().casefold()]
            commune = (exact or folded)[0] if len(exact or folded) == 1 else None
    if commune is None:
        codes = ", ".join(row.code for row in known) or "–"
        typer.echo(c("unknown_commune", code=code, known=codes), err=True)
        raise typer.Exit(2)
    return commune


def _print_invite(info: invites.InviteInfo, tz: ZoneInfo) -> None:
    team = c("invite_team_part", team=info.team) if info.team else ""
    role = c(f"role_names.{info.role}")
    typer.echo(c("invite_code", code=info.code, role=role, team=team))
    expires = f"{info.expires_at.astimezone(tz):%d/%m/%Y %H:%M}"
    typer.echo(c("invite_uses_line", uses=info.uses, expires=expires, tz=tz.key))
    if info.link:
        typer.echo(c("invite_telegram_link", link=info.link))
    else:
        typer.echo(c("invite_telegram", payload=info.payload))
    typer.echo(c("invite_zalo", payload=info.payload))


def register(app: typer.Typer) -> None:
    """Add the import, admin and invite command groups to the `hocvuso` app."""
    import_app = typer.Typer(help=c("import"), no_args_is_help=True)
    admin_app = typer.Typer(help=c("admin"), no_args_is_help=True)
    invite_app = typer.Typer(help=c("invite"), no_args_is_help=True)
    app.add_typer(import_app, name="import")
    app.add_typer(admin_app, name="admin")
    app.add_typer(invite_app, name="invite")
    households_app = typer.Typer(help=c("households"), no_args_is_help=True)
    app.add_typer(households_app, name="households")

    @households_app.command("codes", help=c("households_codes"))
    def household_codes(
        out: Path = typer.Option(..., "--out", help=c("households_out")),
        village: str | None = typer.Option(None, "--village", help=c("households_village")),
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
        typer.echo(c("households_written", count=count, out=out))

    @import_app.command("villages", help=c("import_villages"))
    def import_villages(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help=c("import_file")),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:
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
            c(
                "villages_imported",
                file=file,
                added=result.added,
                updated=result.updated,
                teams=result.teams_added,
            )
        )

    @import_app.command("households", help=c("import_households"))
    def import_households(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help=c("import_file")),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:

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
        typer.echo(c("households_imported", file=file, added=result.added, updated=result.updated))

    @admin_app.command("add", help=c("admin_add"))
    def admin_add(
        name: str = typer.Option(..., "--name", help=c("admin_name")),
        commune: str = typer.Option(..., "--commune", help=c("admin_commune")),
        role: str = typer.Option("commune_admin", "--role", help=c("admin_role")),
        days: int = typer.Option(7, "--days", help=c("admin_days")),
        config: Path | None = ConfigOption,
    ) -> None:
        if role not in team_repo.ADMIN_ROLES:
            typer.echo(c("admin_role_bad"), err=True)
            raise typer.Exit(2)
        _invite(config, role=role, commune=commune, team=None, uses=1, days=days, name=name)

    @invite_app.command("create", help=c("invite_create"))
    def invite_create(
        role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
        team: str | None = typer.Option(None, "--team", help=c("invite_team")),
        uses: int = typer.Option(1, "--uses", help=c("invite_uses")),
        days: int = typer.Option(7, "--days", help=c("invite_days")),
        commune: str | None = CommuneOption,
        config: Path | None = ConfigOption,
    ) -> None:
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
                return c("unknown_team", team=team, commune=target.code)
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
    typer.echo(c("import_failed", count=len(problems)), err=True)
    raise typer.Exit(1)
