"""The commune plan's targets (commune file `targets:`), per indicator, year and village.

Like the report wording (`notes.py`), `bot.app.build_app` registers them per commune
code at start, so the report, the CLI and a dashboard read the same milestones.
A figure's target is the first milestone of its year or later (the one being worked
towards); a village's own target wins over the commune's, which applies to every village.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from config.commune import TargetInfo


@dataclass(frozen=True)
class Target:
    percent: float
    year: int

    def progress(self, pct: float | None) -> float | None:
        """How far the figure is towards the target, in percent (100 = reached)."""
        if pct is None or not self.percent:
            return None
        return round(100.0 * pct / self.percent, 1)


@dataclass(frozen=True)
class Targets:
    entries: tuple[TargetInfo, ...] = ()

    def indicators(self) -> tuple[str, ...]:
        """Indicators with at least one target, in the order first given."""
        return tuple(dict.fromkeys(t.indicator for t in self.entries))

    def of(self, indicator: str, year: int, village_code: str | None = None) -> Target | None:
        """The target for the unit in `year` (None: the commune set none)."""
        for code in (village_code, None) if village_code else (None,):
            candidates = [
                t
                for t in self.entries
                if t.indicator == indicator and t.village == code and t.year >= year
            ]
            if candidates:
                best = min(candidates, key=lambda t: t.year)
                return Target(best.percent, best.year)
        return None


def gap(pct: float | None, target: Target | None) -> float | None:
    """Percentage points still missing (0 when reached)."""
    if target is None or pct is None:
        return None
    return max(0.0, round(target.percent - pct, 1))


_TARGETS: dict[str, Targets] = {}


def register(commune_code: str, entries: Iterable[TargetInfo]) -> None:
    _TARGETS[commune_code] = Targets(tuple(entries))


def targets_for(commune_code: str) -> Targets:
    return _TARGETS.get(commune_code, Targets())
