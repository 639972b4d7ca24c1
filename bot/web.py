"""The one aiohttp app every process serves: `/healthz`, each channel's webhook, and
`/files/<token>` for reports handed over by link (Zalo sends no files)."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import text

from bot.channels.base import Channel
from bot.core.context import Services, utc_now
from bot.core.texts import Texts
from storage import downloads, team_repo
from storage.db import Database


def build_web_app(
    database: Database,
    channels: Sequence[Channel],
    *,
    texts: Texts | None = None,
    clock: Callable[[], datetime] = utc_now,
    services: Services | None = None,
    province_name: str = "",
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)  # webhook bodies are small
    texts = texts or Texts.load("vi")

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with database.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not healthy"
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "channels": [c.name for c in channels]})

    async def download(request: web.Request) -> web.Response:
        now = clock()
        try:
            async with database.transaction() as session:
                row = await downloads.fetch(session, request.match_info["token"], now)
                if row is not None:
                    team_repo.audit(
                        session,
                        f"person:{row.person_id}",
                        "report_download",
                        row.commune_id,
                        at=now,
                        file=row.filename,
                        download=row.downloads,
                    )
                    found = (row.filename, row.content_type, row.data)
        except Exception:  # the database may be briefly down: say so, leak nothing
            return _page(texts("web.download_unavailable"), status=503)
        if row is None:
            return _page(texts("web.download_gone"), status=404)
        filename, content_type, data = found
        return web.Response(
            body=data,
            content_type=content_type,
            headers={
                "Content-Disposition": _attachment(filename),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/files/{token}", download)
    for channel in channels:
        app.router.add_routes(channel.routes())
    if services is not None:  # the staff dashboard (bot/webui), on the chat's services
        from bot.webui import mount

        mount(app, database, services, clock, province_name=province_name)
    return app


def _attachment(filename: str) -> str:
    """An ASCII fallback name plus the real (Vietnamese) one, as RFC 6266 allows."""
    fallback = filename.encode("ascii", "ignore").decode().replace('"', "") or "bao-cao"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _page(message: str, *, status: int) -> web.Response:
    """A tiny page readable on a phone: the link was opened in Zalo's browser."""
    body = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Hocvuso</title></head><body style="font:18px sans-serif;margin:2em">'
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(text=body, content_type="text/html", status=status)
