"""Message catalogs: every text a person sees lives in `bot/i18n/<lang>/*.yaml`.

Each feature keeps its own file (core.yaml, team.yaml, ...); keys must not repeat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

I18N_DIR = Path(__file__).resolve().parents[1] / "i18n"
# libyaml's safe loader when PyYAML has it: the pure-Python one takes about half a second
# for all catalogs, which every command-line run would pay at start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Texts:
    """Looks up a text by dotted key and fills its `{placeholders}`."""

    def __init__(self, catalog: dict[str, Any]) -> None:
        self._flat: dict[str, str] = {}
        self._flatten("", catalog)

    @classmethod
    def load(cls, language: str = "vi") -> Texts:
        merged: dict[str, Any] = {}
        for path in sorted((I18N_DIR / language).glob("*.yaml")):
            with path.open(encoding="utf-8") as handle:
                catalog = yaml.load(handle, Loader=_LOADER) or {}
            clash = set(catalog) & set(merged)
            if clash:
                raise ValueError(f"{path}: sections already defined elsewhere: {sorted(clash)}")
            merged.update(catalog)
        return cls(merged)

    def _flatten(self, prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                self._flatten(f"{prefix}{key}.", value)
        else:
            self._flat[prefix.rstrip(".")] = str(node).rstrip("\n")

    def __call__(self, key: str, **values: Any) -> str:
        template = self._flat[key]  # a missing key is a bug: fail loudly in tests
        return template.format(**values) if values else template

    def keys(self) -> list[str]:
        return list(self._flat)

    def either(self, items: list[str]) -> str:
        """ "A, B hay C": alternatives as a question lists them (commas, "hay" last)."""
        if len(items) <= 1:
            return "".join(items)
        return self("common.list_comma").join(items[:-1]) + self("common.or") + items[-1]
