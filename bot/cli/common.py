"""Helpers shared by CLI commands: settings and start-up faults shown plainly, in one or
two Vietnamese lines naming what and where (bot/startup.py), with exit code 2."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from bot.app import App, build_app
from bot.cli.texts import c
from bot.core.communes import CommuneRef
from bot.startup import explain
from config.settings import Settings, SettingsError, load_settings


def commune_or_exit(app: App, code: str | None) -> CommuneRef:
    """The commune `--commune` names (case does not matter); may be left out only when
    the deployment serves one commune. Otherwise a Vietnamese line and exit code 2."""
    communes = app.engine.services.communes
    found = communes.only if code is None else communes.by_code(code)
    if found is not None:
        return found
    known = ", ".join(ref.code for ref in communes.all())
    key = "commune_needed" if code is None else "unknown_commune"
    typer.echo(c(key, code=code, known=known), err=True)
    raise typer.Exit(2)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except SettingsError as exc:
        typer.echo(explain(exc), err=True)
        raise typer.Exit(2) from None


async def build_or_exit(settings: Settings) -> App:
    try:
        return await build_app(settings)
    except Exception as exc:
        message = explain(exc, settings)
        if message is None:
            raise  # not a start-up fault: a bug, keep its traceback
    typer.echo(message, err=True)
    raise typer.Exit(2)


class StartupError(Exception):
    """Configuration, content, database or port that stops the service from starting."""


async def guarded(coro, settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """Run a coroutine, turning start-up faults into StartupError (its message is the
    one or two lines to print)."""
    try:
        return await coro
    except Exception as exc:
        message = explain(exc, settings)
        if message is None:
            raise
        raise StartupError(message) from None


def setup_logging(*, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
