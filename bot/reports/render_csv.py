"""The per-village table as CSV, with stable machine column names (documented in README).

UTF-8 with a byte-order mark so that Excel shows Vietnamese names correctly; a comma
separator and a dot decimal point, as machines expect. Figures follow `Metrics`: "in the
period" or "cumulative to the end of the period" as each column's name says below.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from bot.reports.model import Digital, Metrics, Report

# Column -> value. Do not rename or reorder: scripts read these. Add new ones at the end.
CSV_COLUMNS: dict[str, Callable[[Metrics], Any]] = {
    "households_total": lambda m: m.households_total,
    "households_reached": lambda m: m.households_reached,  # cumulative
    "residents_registered": lambda m: m.registered,  # cumulative
    "residents_active": lambda m: m.active,  # in the period
    "lesson_completions": lambda m: m.completions,  # in the period (events)
    "learners_completed_any": lambda m: m.completed_any_cum,  # cumulative
    "learners_completed_basic": lambda m: m.basic_cum,  # cumulative
    "support_visits": lambda m: m.visits,  # in the period (events)
    "support_visits_verified": lambda m: m.visits_verified,  # in the period (events)
    "households_reached_pct": lambda m: m.households_pct,
    "residents_new": lambda m: m.new,
    "learners_completed_basic_new": lambda m: m.basic_new,
    "lesson_completions_cum": lambda m: m.completions_cum,
    "quiz_attempts": lambda m: m.quiz_attempts,
    "quiz_passed": lambda m: m.quiz_passed,
    "households_verified": lambda m: m.households_verified,
    "assisted_learners": lambda m: m.assisted_learners,
    "assisted_completions": lambda m: m.assisted_completions,
    "team_members": lambda m: m.members,
    "residents_referred": lambda m: m.referred,
}
HEADER = ["village_code", "village_name", *CSV_COLUMNS, "period_start", "period_end"]

# The campaign's own indicators (`Digital`, cumulative to the end of the period), after
# the period columns so that existing positions stay. Each one the commune's plan sets a
# target for is followed by `<name>_target` (a percentage of its denominator).
DIGITAL_COLUMNS = (
    "households_surveyed",
    "households_one_proficient",
    "households_one_proficient_team",
    "households_one_proficient_bot",
    "adults_total",
    "adults_smartphone",
    "adults_vneid_level2",
    "adults_payment_account",
    "adults_used_public_service",
    "adults_health_book",
    "residents_course_self",
    "residents_platform_certified_self",
)


# Added after the campaign's indicators, so no earlier position moved. Taught in person
# by a team member: a separate source from `learners_completed_basic_new` (on the bot),
# never added to it (docs/glossary.md).
LATER_COLUMNS: dict[str, Callable[[Metrics], Any]] = {
    "assisted_learners_completed_basic_new": lambda m: m.assisted_basic,
}


def _percent(value: float | None) -> Any:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else value


def _digital_header(report: Report) -> list[str]:
    targeted = set(report.targets.indicators())
    header: list[str] = []
    for name in DIGITAL_COLUMNS:
        header.append(name)
        if name in targeted:
            header.append(f"{name}_target")
    return header


def _digital_values(report: Report, digital: Digital, village_code: str) -> list[Any]:
    targeted = set(report.targets.indicators())
    year = report.period.last_day.year
    values: list[Any] = []
    for name in DIGITAL_COLUMNS:
        values.append(getattr(digital, name))
        if name in targeted:
            target = report.targets.of(name, year, village_code)
            values.append(_percent(target.percent) if target else "")
    return values


def render_csv(report: Report) -> bytes:
    """One row per village (not a total: people counts per village do not add up)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*HEADER, *_digital_header(report), *LATER_COLUMNS])
    start = report.period.start.date().isoformat()
    last_day = report.period.last_day.isoformat()
    for village in report.villages:
        if village.id is None:
            continue  # residents with no village yet are in the commune total only
        values = [fn(village.metrics) for fn in CSV_COLUMNS.values()]
        digital = _digital_values(report, village.digital, village.code)
        later = [fn(village.metrics) for fn in LATER_COLUMNS.values()]
        writer.writerow([village.code, village.name, *values, start, last_day, *digital, *later])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
