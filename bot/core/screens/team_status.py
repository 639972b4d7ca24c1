"""A member records a household's digital status in a few taps (after logging a visit,
or from /to): the number of adults, then five counts typed as digits, then one yes/no.

The counts are typed, never picked from numbered choices, so no screen here offers a
choice while it waits for a number ("2" is two people, not option 2). The rules and
the writing are in `bot.team.household_status`; nothing here touches SQL.
"""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.matching import fold
from bot.core.messages import Outbound
from bot.core.screens import screen
from bot.core.screens.team import refused, team_grant
from bot.core.screens.team_visits import _household, _label, _shown_household, cancel_choice
from bot.core.screens.typed import accepts_text
from bot.team import household_status as hs
from storage.models import Person
from storage.team_models import Household, HouseholdSurvey

ACTION = "log_visit"  # who may survey: those who may log a visit, in their own village
_STOP_WORDS = {"huy", "dung", "thoat", "huy bo"}


async def open_status(ctx: Context, household: Household) -> None:
    """Start recording: offer "as before" when the household was surveyed already."""
    if await hs.latest_survey(ctx.session, household.id) is None:
        ctx.goto("team_status", household=household.id, step=0, answers={})
    else:
        ctx.goto("team_status_start", household=household.id)


def _yes_no(ctx: Context, value: bool) -> str:
    return ctx.t("status.yes_word" if value else "status.no_word")


def _values(ctx: Context, row: HouseholdSurvey | hs.Survey) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(row, name) for name in hs.FIELDS}
    values["proficient"] = _yes_no(ctx, row.proficient)
    return values


@screen
class StatusStartScreen:
    name = "team_status_start"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, ACTION)
        if household is None:
            return refused(ctx)
        previous = await hs.latest_survey(ctx.session, household.id)
        if previous is None:
            text = ctx.t("status.start_first", household=_label(household))
            return Outbound(text, (ctx.choice("new", "status.new"), cancel_choice(ctx)))
        member = await ctx.session.get(Person, previous.member_person_id)
        text = ctx.t(
            "status.start",
            household=_label(household),
            date=previous.surveyed_at.astimezone(ctx.services.tz).strftime("%d/%m/%Y"),
            member=(member.display_name if member else None) or ctx.t("status.unknown_member"),
            **_values(ctx, previous),
        )
        choices = (
            ctx.choice("same", "status.same"),
            ctx.choice("new", "status.new"),
            cancel_choice(ctx),
        )
        return Outbound(text, choices)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id not in ("same", "new"):
            _cancelled(ctx)
            return
        household = await _household(ctx, args.get("household"), ACTION)
        if household is None:
            return
        previous = await hs.latest_survey(ctx.session, household.id)
        if choice_id == "same" and previous is not None:
            survey = hs.Survey(
                proficient=previous.proficient,
                **{name: getattr(previous, name) for name in hs.FIELDS},
            )
            await _save(ctx, household, survey)
        else:
            ctx.goto("team_status", household=household.id, step=0, answers={})


@accepts_text
@screen
class StatusCountScreen:
    """One count per message: adults first, then each of `hs.COUNT_FIELDS`."""

    name = "team_status"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, ACTION)
        if household is None:
            return refused(ctx)
        step = _step(args)
        field = hs.FIELDS[step]
        adults = args.get("answers", {}).get("adults")
        lines = [
            ctx.t("status.step", household=_label(household), n=step + 1, total=len(hs.FIELDS) + 1),
            ctx.t(f"status.ask.{field}", adults=adults),
            ctx.t("status.hint_adults")
            if field == "adults"
            else ctx.t("status.hint_count", adults=adults),
        ]
        return Outbound("\n".join(lines))  # no choices: a typed "1" is a number here

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        _cancelled(ctx)

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        if fold(text).strip(" .!") in _STOP_WORDS:
            _cancelled(ctx)
            return
        household = await _household(ctx, args.get("household"), ACTION)
        if household is None:
            return
        step = _step(args)
        answers = {k: int(v) for k, v in dict(args.get("answers") or {}).items() if k in hs.FIELDS}
        try:
            value = hs.parse_count(text, hs.FIELDS[step], answers.get("adults"))
        except hs.SurveyError as error:
            ctx.say(ctx.t(error.key, **error.values))
            ctx.goto(self.name, household=household.id, step=step, answers=answers)
            return
        answers[hs.FIELDS[step]] = value
        if step + 1 < len(hs.FIELDS):
            ctx.goto(self.name, household=household.id, step=step + 1, answers=answers)
        else:
            ctx.goto("team_status_proficient", household=household.id, answers=answers)


def _step(args: dict[str, Any]) -> int:
    """The question to ask; the first again if the adults are not known (a stale screen)."""
    step = args.get("step", 0)
    if not isinstance(step, int) or not 0 <= step < len(hs.FIELDS):
        return 0
    return step if step == 0 or "adults" in (args.get("answers") or {}) else 0


@screen
class StatusProficientScreen:
    name = "team_status_proficient"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        household = await _shown_household(ctx, args, ACTION)
        if household is None:
            return refused(ctx)
        n = len(hs.FIELDS) + 1
        lines = [
            ctx.t("status.step", household=_label(household), n=n, total=n),
            ctx.t("status.ask_proficient"),
        ]
        if await hs.household_has_basic(ctx.session, household.id):
            lines.append(ctx.t("status.proficient_linked"))
        choices = (
            ctx.choice("yes", "status.answer_yes"),
            ctx.choice("no", "status.answer_no"),
            cancel_choice(ctx),
        )
        return Outbound("\n".join(lines), choices)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id not in ("yes", "no"):
            _cancelled(ctx)
            return
        household = await _household(ctx, args.get("household"), ACTION)
        if household is None:
            return
        answers = dict(args.get("answers") or {})
        try:
            survey = hs.Survey(
                proficient=choice_id == "yes", **{name: int(answers[name]) for name in hs.FIELDS}
            )
        except (KeyError, TypeError, ValueError):  # a stale or forged screen: start again
            ctx.say(ctx.t("common.stale"))
            ctx.goto("team_status", household=household.id, step=0, answers={})
            return
        await _save(ctx, household, survey)


async def _save(ctx: Context, household: Household, survey: hs.Survey) -> None:
    grant = await team_grant(ctx)
    if grant is None or ctx.person is None:
        ctx.goto("team")
        return
    row = await hs.record_survey(
        ctx.session,
        household,
        survey,
        commune_id=ctx.commune.id,
        member_person_id=ctx.person.id,
        team_id=grant.team_id,
        now=ctx.now,
    )
    date = row.surveyed_at.astimezone(ctx.services.tz).strftime("%d/%m/%Y")
    ctx.say(ctx.t("status.saved", household=_label(household), date=date, **_values(ctx, survey)))
    ctx.goto("team")


def _cancelled(ctx: Context) -> None:
    ctx.say(ctx.t("status.cancelled"))
    ctx.goto("team")
