"""`hocvuso`: the command line. Each command validates settings first and reports
problems as `file: field: what is wrong`, before anything starts."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from bot.cli import admin_cli, common, report_cli

app = typer.Typer(
    help="Bình dân học vụ số: chatbot học kỹ năng số cho xã, phường.",
    no_args_is_help=True,
    add_completion=False,
)
content_app = typer.Typer(help="Lesson and quiz content.", no_args_is_help=True)
app.add_typer(content_app, name="content")
admin_cli.register(app)
report_cli.register(app)

ConfigOption = typer.Option(None, "--config", "-c", help="TOML settings file (or HOCVUSO_CONFIG).")


@app.command()
def chat(
    jsonl: bool = typer.Option(False, "--jsonl", help="Machine mode: JSON lines in and out."),
    user: str = typer.Option("console-user", "--user", help="Who is chatting (an opaque id)."),
    name: str = typer.Option("Bạn", "--name", help="Display name the bot sees."),
    config: Path | None = ConfigOption,
) -> None:
    """Chat with the bot in this terminal (the console channel)."""
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


@app.command()
def run(
    role: str = typer.Option("all", "--role", help="all | web | scheduler"),
    config: Path | None = ConfigOption,
) -> None:
    """Run the service: every channel with a token, /healthz and background jobs."""
    from bot.service import serve

    if role not in ("all", "web", "scheduler"):
        typer.echo("--role must be all, web or scheduler", err=True)
        raise typer.Exit(2)
    settings = common.settings_or_exit(config)
    common.setup_logging()
    try:
        asyncio.run(common.guarded(serve(settings, role), settings))  # type: ignore[arg-type]
    except common.StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@content_app.command("check")
def content_check(
    root: Path | None = typer.Argument(None, help="Folder holding lessons/ and quizzes/."),
) -> None:
    """Validate every lesson and quiz; print `file:line: reason` for each problem."""
    from bot.content.loader import check_content, default_content_root

    folder = root or default_content_root()
    problems = check_content(folder)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {folder}", err=True)
        raise typer.Exit(1)
    typer.echo(f"content OK: {folder}")


@app.command()
def migrate(config: Path | None = ConfigOption) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from bot.startup import DATABASE_ERRORS, DatabaseStartupError, explain
    from storage.db import run_migrations

    settings = common.settings_or_exit(config)
    try:
        run_migrations(settings.database_url)
    except DATABASE_ERRORS as exc:
        typer.echo(explain(DatabaseStartupError(settings.database_url, exc)), err=True)
        raise typer.Exit(2) from None
    typer.echo("database is up to date")


@app.command("check-config")
def check_config(config: Path | None = ConfigOption) -> None:
    """Validate settings, the commune file and the content without starting anything."""
    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)

    async def _go() -> None:
        built = await common.build_or_exit(settings)
        await built.close()

    asyncio.run(_go())
    typer.echo("configuration OK")


def main() -> None:  # pragma: no cover - console entry for `python -m bot.cli.main`
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
