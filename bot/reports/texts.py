"""Report wording from `bot/i18n/vi/reports.yaml` and Vietnamese number formatting."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.core.texts import Texts


@lru_cache(maxsize=1)
def _catalog() -> Texts:
    return Texts.load("vi")


class ReportTexts:
    """`t("columns.registered")` looks up `reports.columns.registered`, with `{unit}` and
    `{Unit}` filled with the commune's word for a village (thôn, tổ dân phố...)."""

    def __init__(
        self,
        unit_label: str = "thôn",
        *,
        capitalised: str | None = None,
        texts: Texts | None = None,
    ) -> None:
        self._texts = texts or _catalog()
        self.unit = unit_label
        self.Unit = capitalised or unit_label[:1].upper() + unit_label[1:]

    def __call__(self, key: str, **values: Any) -> str:
        return self._texts(f"reports.{key}", unit=self.unit, Unit=self.Unit, **values)

    def items(self, key: str) -> list[str]:
        """A text holding several items separated by `|`."""
        return [item for item in self(key).split("|") if item]


def fmt_int(value: int | None) -> str:
    """1234567 -> "1.234.567" (Vietnamese thousands separator)."""
    if value is None:
        return ""
    return f"{value:,}".replace(",", ".")


def fmt_dec(value: float | None) -> str:
    """45.6 -> "45,6" (Vietnamese decimal comma)."""
    if value is None:
        return ""
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def fmt_value(value: Any, kind: str) -> str:
    if kind == "int":
        return fmt_int(value)
    if kind in ("pct", "dec"):
        return fmt_dec(value)
    if kind == "num":  # whole numbers as such, ratios with one decimal
        return fmt_int(value) if isinstance(value, int) else fmt_dec(value)
    return "" if value is None else str(value)


def place_name(commune_name: str, texts: ReportTexts) -> str:
    """ "Xã Hòa An" -> "Hòa An", for the "<place>, ngày ... tháng ... năm ..." line."""
    for prefix in texts.items("document.place_prefixes"):
        if commune_name.startswith(prefix):
            return commune_name[len(prefix) :]
    return commune_name
