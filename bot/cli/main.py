"""`hocvuso`: the command line. Each command validates settings first and reports
problems as `file: field: what is wrong`, before anything starts."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from bot.cli import admin_cli, click_vi, common, report_cli
from bot.cli.texts import c
from bot.content.model import DEFAULT_MAX_REVIEW_AGE_DAYS


def _vietnamese_help_frame() -> None:
    """Typer's own words around the help and errors (panel titles, "[default: ...]"):
    module settings it reads when printing, so an officer reads Vietnamese throughout."""
    from typer import rich_utils

    rich_utils.ARGUMENTS_PANEL_TITLE = c("panel_arguments")
    rich_utils.OPTIONS_PANEL_TITLE = c("panel_options")
    rich_utils.COMMANDS_PANEL_TITLE = c("panel_commands")
    rich_utils.ERRORS_PANEL_TITLE = c("panel_error")
    placeholders = {"command_path": "{command_path}", "help_option": "{help_option}"}
    rich_utils.RICH_HELP = c("panel_try", **placeholders)
    rich_utils.DEFAULT_STRING = c("panel_default")
    rich_utils.REQUIRED_LONG_STRING = c("panel_required")
    click_vi.install()


_vietnamese_help_frame()
app = typer.Typer(
    help=c("app"),
    no_args_is_help=True,
    add_completion=False,
)
content_app = typer.Typer(help=c("content"), no_args_is_help=True)
app.add_typer(content_app, name="content")
admin_cli.register(app)
report_cli.register(app)

ConfigOption = typer.Option(None, "--config", "-c", help=c("config"))


@app.command(help=c("chat"))
def chat(
    jsonl: bool = typer.Option(False, "--jsonl", help=c("chat_jsonl")),
    user: str = typer.Option("console-user", "--user", help=c("chat_user")),
    name: str = typer.Option("Bạn", "--name", help=c("chat_name")),
    config: Path | None = ConfigOption,
) -> None:
    # The console channel.
    from bot.channels.console.chat import run_interactive, run_jsonl, stdin

    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> None:
        built = await common.build_or_exit(settings)
        try:
            if jsonl:
                await run_jsonl(built.engine, user, name, stdin(), sys.stdout)
            else:
                await run_interactive(built.engine, user, name)
        finally:
            await built.close()

    asyncio.run(_go())


@app.command(help=c("run"))
def run(
    role: str = typer.Option("all", "--role", help=c("run_role")),
    config: Path | None = ConfigOption,
) -> None:
    # Every channel with a token, /healthz and the background jobs.
    from bot.service import serve

    if role not in ("all", "web", "scheduler"):
        typer.echo(c("run_role_bad"), err=True)
        raise typer.Exit(2)
    settings = common.settings_or_exit(config)
    common.setup_logging()
    try:
        asyncio.run(common.guarded(serve(settings, role), settings))  # type: ignore[arg-type]
    except common.StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@content_app.command("check", help=c("content_check"))
def content_check(
    root: Path | None = typer.Argument(None, help=c("content_root")),
    max_review_age_days: int = typer.Option(
        DEFAULT_MAX_REVIEW_AGE_DAYS,
        "--max-review-age-days",
        min=0,
        help=c("content_review_age"),
    ),
) -> None:
    # A problem per line: `file:line: reason`. Warnings (a review that is too old) are
    # printed but do not fail the check.
    from datetime import date

    from bot.content.loader import check_content, default_content_root

    folder = root or default_content_root()
    problems = check_content(folder, today=date.today(), max_review_age_days=max_review_age_days)
    for problem in problems:
        typer.echo(str(problem))
    errors = sum(1 for problem in problems if not problem.warning)
    warnings = len(problems) - errors
    if errors:
        typer.echo(c("content_problems", count=errors, warnings=warnings, folder=folder), err=True)
        raise typer.Exit(1)
    typer.echo(c("content_ok", folder=folder, warnings=warnings))


@content_app.command("overview", help=c("content_overview"))
def content_overview(
    root: Path | None = typer.Argument(None, help=c("content_root")),
) -> None:
    from bot.content.loader import ContentError, default_content_root, load_curriculum
    from bot.content.overview import write_overview

    folder = root or default_content_root()
    try:
        curriculum = load_curriculum(folder)
    except ContentError as exc:
        typer.echo(str(exc))
        typer.echo(c("content_overview_fix"), err=True)
        raise typer.Exit(1) from None
    typer.echo(c("content_overview_done", path=write_overview(folder, curriculum)))


@app.command(help=c("migrate"))
def migrate(config: Path | None = ConfigOption) -> None:
    # Alembic, as the service does at start.
    from bot.startup import DATABASE_ERRORS, DatabaseStartupError, explain
    from storage.db import run_migrations

    settings = common.settings_or_exit(config)
    try:
        run_migrations(settings.database_url)
    except DATABASE_ERRORS as exc:
        typer.echo(explain(DatabaseStartupError(settings.database_url, exc)), err=True)
        raise typer.Exit(2) from None
    typer.echo(c("migrate_ok"))


@app.command("check-config", help=c("check_config"))
def check_config(config: Path | None = ConfigOption) -> None:
    # Settings, the commune file and the content, without starting anything.
    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> None:
        built = await common.build_or_exit(settings)
        await built.close()

    asyncio.run(_go())
    typer.echo(c("check_config_ok"))


def main() -> None:  # pragma: no cover - console entry for `python -m bot.cli.main`
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
