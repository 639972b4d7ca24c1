"""Wiring: settings -> database, content, commune -> engine. Used by every entry point."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content.loader import default_content_root, load_curriculum
from bot.core import channel_traits
from bot.core.communes import CommuneDirectory, CommuneRef
from bot.core.context import Services
from bot.core.engine import Engine
from bot.core.texts import Texts
from bot.reports.notes import register as register_report_notes
from bot.reports.targets import register as register_targets
from bot.scheduling.calendar import calendar_fault
from bot.scheduling.calendar import register as register_calendar
from bot.startup import DATABASE_ERRORS, DatabaseStartupError
from config.bots import BotConfigError, check_bots
from config.commune import CommuneFile, CommuneFileError, load_commune_file
from config.settings import Settings
from storage.db import Database
from storage.registry import sync_commune_at_start

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    database: Database
    engine: Engine

    async def close(self) -> None:
        await self.database.dispose()


async def build_app(
    settings: Settings,
    *,
    services_overrides: dict | None = None,
    migrate_in_child: bool = False,
) -> App:
    """Validate everything first (commune file, content), then migrate and sync.

    Raises CommuneFileError, ContentError, SettingsError or DatabaseStartupError, which
    `bot.startup.explain` turns into one or two readable lines.
    """
    check_bots(settings)  # names, webhooks, tokens of [[bots]]
    commune_files = load_commune_files(settings)
    check_bot_communes(settings, [f.commune.code for f in commune_files])
    channel_traits.use_bots(settings.bots)  # each bot's name resolves to its messenger
    for commune_file in commune_files:
        register_report_notes(commune_file.commune.code, commune_file.report)
        register_targets(commune_file.commune.code, commune_file.targets)
        register_calendar(commune_file.commune.code, commune_file.calendar)
    curriculum = load_curriculum(settings.content_dir or default_content_root())
    try:
        database = Database(settings.database_url, echo=settings.database.echo)
    except DATABASE_ERRORS as exc:  # a bad URL, or a folder that cannot be made
        raise DatabaseStartupError(settings.database_url, exc) from exc
    try:
        await database.migrate(
            core_lessons=curriculum.core_lesson_ids(), in_child=migrate_in_child
        )
        refs = []
        for commune_file in commune_files:
            commune = await sync_commune_at_start(database, commune_file)
            refs.append(CommuneRef(commune.id, commune.code, commune.name, commune.unit_label))
    except DATABASE_ERRORS as exc:  # unreachable, read-only, full: said in one line
        await database.dispose()
        raise DatabaseStartupError(settings.database_url, exc) from exc
    except Exception:
        await database.dispose()
        raise
    services = Services(
        curriculum=curriculum,
        texts=Texts.load("vi"),
        communes=CommuneDirectory(tuple(refs), bots_communes(settings, refs)),
        notice_version=settings.notice_version,
        tz=ZoneInfo(settings.timezone),
        scheduler=settings.scheduler,
        data_dir=settings.data_dir,
        questions_escalate_hours=settings.questions_escalate_hours,
        download_base_url=settings.web.public_url,
        download_hours=settings.web.download_hours,
        web_url=settings.web.public_url or f"http://{settings.web.host}:{settings.web.port}",
        **(services_overrides or {}),
    )
    log.info("ready: communes=%d lessons=%d", len(refs), len(curriculum.lessons))
    return App(settings=settings, database=database, engine=Engine(database, services))


def load_commune_files(settings: Settings) -> list[CommuneFile]:
    """Every commune file, validated; two files with one commune code are refused."""
    t = Texts.load("vi")
    paths = settings.commune_files()
    folder = settings.communes_dir
    stray = sorted(folder.glob("*.yml")) if folder is not None and folder.is_dir() else []
    if stray:  # refused rather than serving the province one commune short
        raise CommuneFileError(t("startup.communes_dir_yml", path=stray[0]))
    if not paths:
        missing = "" if folder is None or folder.is_dir() else t("startup.communes_dir_missing")
        raise CommuneFileError(t("startup.communes_dir_empty", folder=folder, missing=missing))
    files = [load_commune_file(path) for path in paths]
    seen: dict[str, Path] = {}
    for path, data in zip(paths, files, strict=True):
        code = data.commune.code.lower()
        if code in seen:
            raise CommuneFileError(
                t("startup.commune_code_twice", path=path, code=code, other=seen[code])
            )
        seen[code] = path
        fault = calendar_fault(data.calendar, settings.scheduler)
        if fault is not None:
            raise CommuneFileError(f"{path}: {fault}")
    return files


def check_bot_communes(settings: Settings, codes: list[str]) -> None:
    """Every commune code a bot lists has a commune file (checked before the database)."""
    known = {code.lower() for code in codes}
    for bot in settings.bots:
        unknown = [code for code in bot.communes if code.lower() not in known]
        if unknown:
            raise BotConfigError("unknown_communes", name=bot.name, codes=", ".join(unknown))


def bots_communes(settings: Settings, communes: list[CommuneRef]) -> dict[str, tuple[int, ...]]:
    """Bot name -> ids of the communes it serves (bots serving every commune omitted)."""
    by_code = {c.code.lower(): c.id for c in communes}
    served: dict[str, tuple[int, ...]] = {}
    for bot in settings.bots:
        if not bot.communes:
            continue
        unknown = [code for code in bot.communes if code.lower() not in by_code]
        if unknown:
            raise BotConfigError("unknown_communes", name=bot.name, codes=", ".join(unknown))
        served[bot.name] = tuple(by_code[code.lower()] for code in bot.communes)
    return served
