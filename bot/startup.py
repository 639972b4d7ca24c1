"""Faults that stop a command from starting, said in one or two Vietnamese lines.

The CLI prints `explain(exc)` and exits 2 ("configuration error: restarting will not fix
it", as docs/deployment.md and the systemd unit expect); an exception it does not
recognise is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.content.loader import ContentError
from bot.core.texts import Texts
from config.bots import BotConfigError
from config.commune import CommuneFileError
from config.settings import Settings, SettingsError

# Errors of the database driver or the file system met while opening the database.
# (ImportError: the URL names a driver that is not installed.)
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    TimeoutError,
    ImportError,
)
READ_ONLY_SIGNS = ("readonly", "read-only", "unable to open database", "disk is full", "permission")
BIND_ERRNOS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)
MAX_DETAIL = 200


class DatabaseStartupError(Exception):
    """The database could not be opened, upgraded or written at start."""

    def __init__(self, url: str, error: BaseException) -> None:
        super().__init__(f"{safe_url(url)}: {type(error).__name__}")
        self.where = safe_url(url)
        self.error = error
        self.is_sqlite = url.startswith("sqlite")


def safe_url(url: str) -> str:
    """The database URL without its password; a SQLite URL as its file path."""
    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL is shown as "database.url"
        return "database.url"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    """The driver's own words, not SQLAlchemy's statement dump and links."""
    inner = getattr(error, "orig", None) or error
    text = str(inner).strip().splitlines()
    line = text[0] if text else type(inner).__name__
    return line[:MAX_DETAIL]


def _with_rest(texts: Texts, key: str, lines: list[str], **values: Any) -> str:
    first = texts(key, detail=lines[0] if lines else "", **values)
    if len(lines) > 1:
        return f"{first}\n{texts('startup.more', count=len(lines) - 1)}"
    return first


def _database(texts: Texts, fault: DatabaseStartupError) -> str:
    detail = _first_line(fault.error)
    lowered = f"{detail} {fault.error!r}".lower()
    file_fault = fault.is_sqlite and isinstance(fault.error, OSError)  # no server to reach
    if (
        file_fault
        or isinstance(fault.error, PermissionError)
        or any(sign in lowered for sign in READ_ONLY_SIGNS)
    ):
        key = "db_readonly"
    elif isinstance(fault.error, (OSError, TimeoutError)):
        key = "db_unreachable"
    else:
        return texts("startup.db_other", where=fault.where, detail=detail)
    first = texts(f"startup.{key}", where=fault.where, detail=detail)
    return f"{first}\n{texts(f'startup.{key}_hint')}"


def explain(exc: BaseException, settings: Settings | None = None) -> str | None:
    """One or two lines for a start-up fault; None for anything else (a bug)."""
    from bot.channels.telegram.channel import TelegramStartupError
    from bot.channels.zalo.channel import ZaloConfigError

    texts = Texts.load("vi")
    if isinstance(exc, BotConfigError):
        return texts(f"startup.bots.{exc.key}", **exc.values)
    if isinstance(exc, SettingsError):
        return _with_rest(texts, "startup.settings", str(exc).splitlines())
    if isinstance(exc, CommuneFileError):
        return _with_rest(texts, "startup.commune_file", str(exc).splitlines())
    if isinstance(exc, ContentError):
        problems = [str(p) for p in exc.problems] or [str(exc)]
        root = settings.content_dir if settings and settings.content_dir else ""
        first = texts("startup.content", count=len(problems), detail=problems[0])
        return f"{first}\n{texts('startup.content_hint', root=root).rstrip()}"
    if isinstance(exc, (TelegramStartupError, ZaloConfigError)):
        return _with_rest(texts, "startup.channel", str(exc).splitlines())
    if isinstance(exc, DatabaseStartupError):
        return _database(texts, exc)
    if isinstance(exc, OSError) and exc.errno in BIND_ERRNOS and settings is not None:
        where = {"host": settings.web.host, "port": settings.web.port}
        if exc.errno == errno.EADDRINUSE:
            return f"{texts('startup.port_in_use', **where)}\n{texts('startup.port_in_use_hint')}"
        return texts("startup.port_other", detail=_first_line(exc), **where)
    return None
