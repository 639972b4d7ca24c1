"""Helpers shared by CLI commands: settings and start-up errors shown plainly."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from bot.app import App, build_app
from bot.cli.texts import c
from bot.content.loader import ContentError
from config.commune import CommuneFileError
from config.settings import Settings, SettingsError, load_settings


def settings_or_exit(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except SettingsError as exc:
        typer.echo(f"{c('error_settings')}\n{exc}", err=True)
        raise typer.Exit(2) from None


async def build_or_exit(settings: Settings) -> App:
    try:
        return await build_app(settings)
    except CommuneFileError as exc:
        typer.echo(f"{c('error_commune')}\n{exc}", err=True)
    except ContentError as exc:
        typer.echo(f"{c('error_content')}\n{exc}", err=True)
    raise typer.Exit(2)


class StartupError(Exception):
    """Configuration or content that stops the service from starting."""


async def guarded(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine, turning start-up validation errors into StartupError."""
    from bot.channels.telegram.channel import TelegramStartupError
    from bot.channels.zalo.channel import ZaloConfigError

    try:
        return await coro
    except CommuneFileError as exc:
        raise StartupError(f"{c('error_commune')}\n{exc}") from None
    except ContentError as exc:
        raise StartupError(f"{c('error_content')}\n{exc}") from None
    except (SettingsError, TelegramStartupError, ZaloConfigError) as exc:
        raise StartupError(f"{c('error_settings')}\n{exc}") from None


def setup_logging(*, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
