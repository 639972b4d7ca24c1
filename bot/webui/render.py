"""Jinja2 rendering of the dashboard's pages (templates in bot/webui/templates)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from bot.core import channel_traits
from bot.core.texts import Texts
from bot.webui import audit_view
from bot.webui.auth import Page

TEMPLATES = Path(__file__).with_name("templates")
STYLESHEET = Path(__file__).with_name("static") / "style.css"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def number(value: int | float | None) -> str:
    """2000 -> "2.000", 12.5 -> "12,5"; None -> "–" (nothing to divide by)."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{value:,}".replace(",", ".")


def local(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return "" if value is None else value.astimezone(TZ).strftime(fmt)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["n"] = number
    env.filters["local"] = local
    return env


def nav(page: Page) -> list[tuple[str, str, str]]:
    """(key, path, label) of the menu: only what the actor may open."""
    commune, actor = page.commune, page.actor
    items = [
        ("tong-quan", "/web/", "Tổng quan"),
        ("thon", "/web/thon", "Thôn / Tổ"),
        ("ho", "/web/ho", "Hộ gia đình"),
    ]
    if actor.may(commune, "answer_questions"):
        items.append(("cau-hoi", "/web/cau-hoi", "Câu hỏi"))
    if actor.may(commune, "broadcast"):
        items.append(("thong-bao", "/web/thong-bao", "Thông báo"))
    items.append(("bao-cao", "/web/bao-cao", "Báo cáo"))
    if actor.may(commune, "admin_tools"):
        items.append(("nhat-ky", "/web/nhat-ky", "Nhật ký"))
    return items


def render(
    page: Page, template: str, current: str, *, status: int = 200, **values: Any
) -> web.Response:
    body = (
        environment()
        .get_template(template)
        .render(
            nav=nav(page),
            current=current,
            csrf=page.csrf,
            me=page.actor.person.display_name or "",
            commune=page.commune,
            unit=page.commune.unit_label,
            service_label=lambda key: page.services.texts(f"team.services.{key}"),
            channel_label=lambda key: page.services.texts(channel_traits.label_key(key)),
            action_label=lambda code: audit_view.action_label(page.services.texts, code),
            detail_text=lambda detail: audit_view.detail_text(page.services.texts, detail),
            actor_label=lambda actor, names: audit_view.actor_label(
                page.services.texts, actor, names
            ),
            **values,
        )
    )
    return web.Response(
        text=body,
        content_type="text/html",
        status=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def message_page(texts: Texts, key: str, status: int, **values: Any) -> web.Response:
    """A page without the menu: signed out, link refused, forbidden."""
    body = (
        environment()
        .get_template("message.html")
        .render(
            title=texts(f"web_ui.{key}.title"),
            text=texts(f"web_ui.{key}.text", **values),
        )
    )
    return web.Response(
        text=body, content_type="text/html", status=status, headers={"Cache-Control": "no-store"}
    )
