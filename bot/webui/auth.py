"""Who is asking: the session cookie, the actor behind it, and the CSRF check.

Every page handler is wrapped by `staff_page`: it finds a live session (30 minutes of
inactivity end it), loads the actor's roles in the commune, refuses a POST whose form
lacks the session's CSRF token, and turns a refused permission into a clear 403 page.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiDict

from bot.core.context import CommuneRef, Services
from bot.operations import Actor, NotAllowed, NotFound, actor_for, web_access
from storage import team_repo, web_repo
from storage.db import Database
from storage.models import Person

COOKIE = "hvs_web"


@dataclass
class Page:
    """One request of a signed-in staff member."""

    request: web.Request
    actor: Actor
    services: Services
    database: Database
    now: datetime
    csrf: str
    form: Any  # the posted form (a MultiDict: checkboxes repeat)
    commune: CommuneRef  # the signed-in person's commune: every page works in it


Handler = Callable[[Page], Awaitable[web.StreamResponse]]


def set_cookie(response: web.StreamResponse, services: Services, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        secure=services.web_url.startswith("https://"),
        path="/web",
        max_age=int(web_access.IDLE.total_seconds()) * 48,  # the server ends it sooner
    )


def staff_page(
    handler: Handler,
    *,
    database: Database,
    services: Services,
    clock: Callable[[], datetime],
    render_error: Callable[[web.Request, str, int], web.Response],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        now = clock()
        form: Any = MultiDict()
        if request.method == "POST":
            form = await request.post()
        token = request.cookies.get(COOKIE, "")
        async with database.transaction() as session:  # short: SQLite has one writer
            row = (
                await web_repo.live_session(session, token, now, web_access.IDLE) if token else None
            )
            person = await session.get(Person, row.person_id) if row is not None else None
            commune = services.communes.get(person.commune_id) if person else None
            actor = await actor_for(session, person, commune) if person and commune else None
        if row is None or actor is None or commune is None or not actor.roles.is_staff:
            return render_error(request, "signed_out", 401)
        if request.method == "POST" and not hmac.compare_digest(
            str(form.get("csrf", "")), row.csrf
        ):
            return render_error(request, "csrf", 403)
        try:
            # The handler opens its own read session or transaction: a report export
            # audits in a transaction of its own, which must not wait on this one.
            page = Page(request, actor, services, database, now, row.csrf, form, commune)
            return await handler(page)
        except NotFound as missing:  # an admin asked for a code or number that does not exist
            return render_error(request, f"missing_{missing.what}", 404)
        except NotAllowed as refused:  # raised before any change: its transaction rolled back
            async with database.transaction() as session:  # a refused attempt is audited
                team_repo.audit(
                    session, actor.audit_name, f"denied:{refused.action}", commune.id,
                    at=now, succeeded=False, path=request.path[:120],
                )  # fmt: skip
            return render_error(request, "forbidden", 403)

    return wrapped
