"""The commune's web dashboard, served by the same aiohttp app as the webhooks and on
the same services as the chat (bot/operations, the read model of bot/reports).

`mount` adds its routes under /web; pages are Jinja2 templates rendered on the server,
one stylesheet, no script. Sign-in is a one-time link from /web in chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.core.context import Services
from bot.operations import web_access
from bot.webui import pages
from bot.webui.auth import COOKIE, Handler, set_cookie, staff_page
from bot.webui.render import STYLESHEET, message_page
from storage.db import Database


def mount(
    app: web.Application,
    database: Database,
    services: Services,
    clock: Callable[[], datetime],
) -> None:
    texts = services.texts

    def error(_request: web.Request, key: str, status: int) -> web.Response:
        return message_page(texts, key, status)

    def page(handler: Handler) -> Callable[[web.Request], object]:
        return staff_page(
            handler, database=database, services=services, clock=clock, render_error=error
        )

    async def sign_in(request: web.Request) -> web.StreamResponse:
        async with database.transaction() as session:
            opened = await web_access.sign_in(
                session, services.communes, request.match_info["token"], clock()
            )
        if opened is None:
            return message_page(texts, "link_refused", 403)
        response = web.HTTPSeeOther("/web/")
        set_cookie(response, services, opened.cookie)
        raise response

    async def signed_out(_request: web.Request) -> web.StreamResponse:
        return message_page(texts, "bye", 200)

    async def stylesheet(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STYLESHEET, headers={"Cache-Control": "max-age=3600"})

    app.router.add_get(web_access.SIGN_IN_PATH + "{token}", sign_in)
    app.router.add_get("/web/da-thoat", signed_out)
    app.router.add_get("/web/style.css", stylesheet)
    app.router.add_get("/web/", page(pages.overview))
    app.router.add_get("/web", page(pages.overview))
    app.router.add_get("/web/thon", page(pages.villages))
    app.router.add_get("/web/thon/{code}", page(pages.village))
    app.router.add_get("/web/ho", page(pages.households))
    app.router.add_get("/web/ho/{id:\\d+}", page(pages.household))
    app.router.add_post("/web/ho/{id:\\d+}/tham", page(pages.add_visit))
    app.router.add_get("/web/cau-hoi", page(pages.questions))
    app.router.add_post("/web/cau-hoi/{id:\\d+}", page(pages.answer))
    app.router.add_get("/web/thong-bao", page(pages.broadcasts))
    app.router.add_post("/web/thong-bao/xem-truoc", page(pages.preview))
    app.router.add_post("/web/thong-bao/gui", page(pages.send))
    app.router.add_get("/web/thong-bao/{id:\\d+}", page(pages.broadcast))
    app.router.add_post("/web/thong-bao/{id:\\d+}/dung", page(pages.stop))
    app.router.add_get("/web/bao-cao", page(pages.reports))
    app.router.add_get("/web/bao-cao/tai", page(pages.download))
    app.router.add_get("/web/nhat-ky", page(pages.audit_log))
    app.router.add_post("/web/thoat", page(pages.sign_out))


__all__ = ["COOKIE", "mount"]
