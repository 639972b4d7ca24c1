"""The Nhật ký page's words: an audit row's action code and detail as Vietnamese text.

Rows keep machine codes and raw values (stable across releases, easy to filter); the
labels live in `web.audit.*` of bot/i18n/vi/web.yaml so staff never read `web.sign_in`,
`None` or `True`. A code or field with no label yet falls back to the raw text rather
than failing the page: old rows must stay readable after a rename."""

from __future__ import annotations

from typing import Any

from bot.core.texts import Texts

DENIED = "denied:"
_HIDDEN = frozenset({"period"})  # the period's code; its label (period_label) is shown
_NONE_MEANS = {"village": "whole_commune", "team": "no_team"}


def action_label(texts: Texts, code: str) -> str:
    if code.startswith(DENIED):
        what = code[len(DENIED) :]
        return texts("web.audit.denied", what=_lookup(texts, f"web.audit.permissions.{what}", what))
    try:
        return texts(f"web.audit.actions.{code}")
    except KeyError:
        return texts("web.audit.unknown_action", code=code)


def actor_label(texts: Texts, actor: str, names: dict[int, str]) -> str:
    """`person:12` -> their name; `cli:root`, `scheduler`, `web:anonymous` in words."""
    kind, _, rest = actor.partition(":")
    if kind == "person" and rest.isdigit():
        return names.get(int(rest)) or actor
    if kind == "cli":
        return texts("web.audit.actors.cli", user=rest or "?")
    if actor == "scheduler":
        return texts("web.audit.actors.scheduler")
    if actor == "web:anonymous":
        return texts("web.audit.actors.web_anonymous")
    return actor


def detail_text(texts: Texts, detail: dict[str, Any] | None) -> str:
    """ "Thôn: toàn xã; Kèm tên: có; Dung lượng: 84 KB" """
    parts = []
    for key, value in (detail or {}).items():
        if key in _HIDDEN:
            continue
        label = _lookup(texts, f"web.audit.fields.{key}", key)
        parts.append(f"{label}: {_value(texts, key, value)}")
    return "; ".join(parts)


def _value(texts: Texts, key: str, value: Any) -> str:
    v = lambda name: texts(f"web.audit.values.{name}")  # noqa: E731
    if value is None:
        return v(_NONE_MEANS.get(key, "none"))
    if isinstance(value, bool):
        return v("yes" if value else "no")
    if key == "bytes" and isinstance(value, int):
        return _size(value)
    if key == "role":
        return _lookup(texts, f"team.roles.{value}", str(value))
    if key == "format":
        return str(value).upper()
    if key == "via" and value == "admin add":
        return v("admin_add")
    if key == "villages" and value == "all":
        return v("all_villages")
    if key == "services" and isinstance(value, list):
        return ", ".join(_lookup(texts, f"team.services.{s}", str(s)) for s in value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return str(value)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def _lookup(texts: Texts, key: str, fallback: str) -> str:
    try:
        return texts(key)
    except KeyError:
        return fallback


def known_actions(texts: Texts) -> list[str]:
    prefix, keys = "web.audit.actions.", texts.keys()  # Texts is not iterable itself
    return [key[len(prefix) :] for key in keys if key.startswith(prefix)]


def action_choices(texts: Texts) -> list[tuple[str, str]]:
    """(code, label) for the page's filter, in the catalog's order."""
    return [(code, texts(f"web.audit.actions.{code}")) for code in known_actions(texts)]
