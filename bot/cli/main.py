"""`hocvuso`: the command line. Each command validates settings first and reports
problems as `file: field: what is wrong`, before anything starts."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from bot.cli import admin_cli, common, report_cli
from bot.content.model import DEFAULT_MAX_REVIEW_AGE_DAYS

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
        asyncio.run(common.guarded(serve(settings, role)))  # type: ignore[arg-type]
    except common.StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@content_app.command("check")
def content_check(
    root: Path | None = typer.Argument(None, help="Folder holding lessons/ and quizzes/."),
    max_review_age_days: int = typer.Option(
        DEFAULT_MAX_REVIEW_AGE_DAYS,
        "--max-review-age-days",
        min=0,
        help="Warn about lessons whose facts were reviewed longer ago than this.",
    ),
) -> None:
    """Validate every lesson and quiz; print `file:line: reason` for each problem.

    Warnings (a review that is too old) are printed but do not fail the check."""
    from datetime import date

    from bot.content.loader import check_content, default_content_root

    folder = root or default_content_root()
    problems = check_content(folder, today=date.today(), max_review_age_days=max_review_age_days)
    for problem in problems:
        typer.echo(str(problem))
    errors = sum(1 for problem in problems if not problem.warning)
    warnings = len(problems) - errors
    if errors:
        typer.echo(f"{errors} problem(s), {warnings} warning(s) in {folder}", err=True)
        raise typer.Exit(1)
    typer.echo(f"content OK: {folder}" + (f" ({warnings} warning(s))" if warnings else ""))


@content_app.command("overview")
def content_overview(
    root: Path | None = typer.Argument(None, help="Folder holding lessons/ and quizzes/."),
) -> None:
    """Write lessons/README.md: the basic programme and a table of every lesson."""
    from bot.content.loader import ContentError, default_content_root, load_curriculum
    from bot.content.overview import write_overview

    folder = root or default_content_root()
    try:
        curriculum = load_curriculum(folder)
    except ContentError as exc:
        typer.echo(str(exc))
        typer.echo("fix the content first: hocvuso content check", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {write_overview(folder, curriculum)}")


@app.command()
def migrate(config: Path | None = ConfigOption) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from storage.db import run_migrations

    settings = common.settings_or_exit(config)
    run_migrations(settings.database_url)
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
