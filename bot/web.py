"""The one aiohttp app every process serves: `/healthz` plus each channel's webhook."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import text

from bot.channels.base import Channel
from storage.db import Database


def build_web_app(database: Database, channels: Sequence[Channel]) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)  # webhook bodies are small

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with database.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not healthy"
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "channels": [c.name for c in channels]})

    app.router.add_get("/healthz", healthz)
    for channel in channels:
        app.router.add_routes(channel.routes())
    return app
