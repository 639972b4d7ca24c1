"""The command line's words, from `bot/i18n/vi/cli.yaml` (read alone: help must be quick)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from bot.core.texts import I18N_DIR, Texts


@lru_cache(maxsize=1)
def _catalog() -> Texts:
    with (I18N_DIR / "vi" / "cli.yaml").open(encoding="utf-8") as handle:
        return Texts(yaml.safe_load(handle))


def c(key: str, **values: Any) -> str:
    """`c("report_done", ...)`: the text `cli.<key>` with its values filled in."""
    return _catalog()(f"cli.{key}", **values).strip()


def num(number: int) -> str:
    return f"{number:,}".replace(",", ".")
