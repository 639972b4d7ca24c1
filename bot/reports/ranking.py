"""The emulation annex (thi đua): villages, teams and members ranked.

Ranked by households given verified support in the period, then by residents trained
in the period (basic programme finished, on the bot or with a member's help). Equal
figures share a rank ("1, 2, 2, 4"). Members are named only for admins; otherwise each
is shown by rank alone.

Every figure shown is a `Metrics` field of the report's own rows (`Report.villages`,
`Report.teams`, `Report.members`), so the annex equals the main tables by construction;
the score is only an order and is shown as its parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.reports.model import Metrics, Report


@dataclass(frozen=True)
class Ranked:
    rank: int
    name: str
    detail: str  # the village of a team, the team of a member, "" otherwise
    households_verified: int
    trained: int
    visits_verified: int
    basic_new: int = 0  # finished the basic programme on the bot in the period
    assisted_basic: int = 0  # finished it with a member's help in the period


def _score(metrics: Metrics) -> tuple[int, int]:
    return metrics.households_verified, metrics.trained


def rank(entries: list[tuple[str, str, Metrics]]) -> list[Ranked]:
    """Competition ranking of (name, detail, metrics), best first; ties keep name order."""
    ordered = sorted(entries, key=lambda e: (-_score(e[2])[0], -_score(e[2])[1], e[0]))
    ranked: list[Ranked] = []
    for position, (name, detail, metrics) in enumerate(ordered, start=1):
        same = ranked and _score(metrics) == (ranked[-1].households_verified, ranked[-1].trained)
        ranked.append(
            Ranked(
                ranked[-1].rank if same else position,
                name,
                detail,
                metrics.households_verified,
                metrics.trained,
                metrics.visits_verified,
                metrics.basic_new,
                metrics.assisted_basic,
            )
        )
    return ranked


def rank_villages(report: Report) -> list[Ranked]:
    return rank([(v.name, "", v.metrics) for v in report.villages if v.id is not None])


def rank_teams(report: Report) -> list[Ranked]:
    return rank([(t.name, t.village_name, t.metrics) for t in report.teams])


def rank_members(report: Report, *, include_names: bool, anonymous: str) -> list[Ranked]:
    """`anonymous` is a template with `{rank}`, used instead of names for non-admins.

    Without names, equal scores keep team order, so the order reveals no name either."""
    if include_names:
        return rank([(m.name or "", m.team_name, m.metrics) for m in report.members])
    ranked = rank([("", m.team_name, m.metrics) for m in report.members])
    return [Ranked(r.rank, anonymous.format(rank=r.rank), r.detail, *_figures(r)) for r in ranked]


def _figures(r: Ranked) -> tuple[int, int, int, int, int]:
    return r.households_verified, r.trained, r.visits_verified, r.basic_new, r.assisted_basic
