"""Helpers for the web dashboard's tests: a served app, staff signed in through /web."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.web import build_web_app
from tests.support import Chat

LINK = re.compile(r"(https?://\S+/web/vao/[A-Za-z0-9_-]+)")


def web_client(app: App) -> TestClient:
    services = app.engine.services
    return TestClient(
        TestServer(
            build_web_app(
                app.database, [], texts=services.texts, clock=services.clock, services=services
            )
        )
    )


async def web_link(chat: Chat) -> str:
    """The sign-in link /web gives in chat (its path: the test server has its own host)."""
    reply = await chat.text("/web")
    text = "\n".join(m.text for m in reply.messages)
    found = LINK.search(text)
    assert found, text
    return found.group(1)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def signed_in(client: TestClient, chat: Chat) -> Any:
    """Open the /web link in `client`; returns the first page's response."""
    response = await client.get(path_of(await web_link(chat)))
    assert response.status == 200, await response.text()
    return response
