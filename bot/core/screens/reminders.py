"""Daily lesson reminders: `/nhacnho` to choose the hour or turn them off and on, and
the `nudge` screen a reminder puts in front of the resident.

The reminder is sent by the scheduler, outside any conversation. So that its "Học ngay"
button is accepted (the engine only takes choices the current screen offered), the
scheduler stores the `nudge` screen on the account when it sends one (see
`bot.scheduling.nudges`). The nudge keeps the screen it replaced: "Học ngay" on the same
lesson puts the resident back on the card or quiz question where they stopped.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.clean import shown_name
from bot.core.context import Context
from bot.core.matching import fold
from bot.core.messages import Choice, Outbound
from bot.core.screens import command, screen, text_hook
from bot.core.screens.learning import menu_choice, open_lesson
from config.settings import SchedulerSettings
from storage import scheduling_repo as sched_repo

# Screens a nudge may take the place of: nothing is being typed or decided there.
IDLE_SCREENS = frozenset({"menu", "catalogue", "topic", "progress", "help", "nudge", "reminders"})
# Screens a nudge replaces but can put back ("Học ngay" on the same lesson).
RESUMABLE_SCREENS = frozenset({"lesson", "quiz"})

# "19 giờ", "7h tối", "19:00" (folded to "19 00"), "lúc 8 giờ tối ạ": a number with a
# marker. A bare number is never an hour: numbers on a screen mean its numbered lines.
_TYPED_HOUR = re.compile(
    r"^(?:luc )?(?:(?P<before>sang|trua|chieu|toi|dem) )?"
    r"(?P<hour>\d{1,2}) ?(?P<unit>h|g|gio)? ?(?P<zero>00?)?"
    r" ?(?P<part>sang|trua|chieu|toi|dem)?(?: (?:a|nhe|nha|nhen|nhi))*$"
)
_BARE_NUMBER = re.compile(r"^\d{1,2}$")


def reminder_settings(ctx: Context) -> SchedulerSettings:
    return ctx.services.scheduler


def hour_label(ctx: Context, hour: int) -> str:
    """ "21 giờ": for time spans in notices to staff."""
    return ctx.t("reminders.hour", hour=hour)


def hour_words(ctx: Context, hour: int) -> str:
    """ "7 giờ tối" for 19: how residents say an hour, so they can check it."""
    if hour == 0:
        return ctx.t("reminders.hour_words", hour=12, part=ctx.t("reminders.parts.dem"))
    # One wording everywhere (labels and confirmations): 18h is "6 giờ chiều", as the
    # 17h label "5 giờ chiều" leads one to expect, and 19h-22h are "tối".
    part = (
        "sang" if hour <= 10 else "trua" if hour <= 12 else "chieu" if hour <= 18
        else "toi" if hour <= 22 else "dem"
    )  # fmt: skip
    shown = hour if hour <= 12 else hour - 12
    return ctx.t("reminders.hour_words", hour=shown, part=ctx.t(f"reminders.parts.{part}"))


def parse_hour(text: str) -> int | None:
    """The hour of the day (0-23) in a typed "8 giờ tối", "19h", "19:00"; else None."""
    match = _TYPED_HOUR.match(fold(text))
    if match is None:
        return None
    hour, part = int(match["hour"]), match["part"] or match["before"]
    if not (match["unit"] or match["zero"] or part):
        return None
    if hour > 23:
        return None
    if hour > 12:  # "19 giờ tối" says it twice; "19 giờ sáng" contradicts itself
        return hour if part in (None, "chieu", "toi", "dem") else None
    if (part in ("chieu", "toi") and hour < 12) or (part == "trua" and hour < 6):
        hour += 12
    elif part == "dem":
        hour = 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    return hour


@screen
class RemindersScreen:
    name = "reminders"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        settings = reminder_settings(ctx)
        state = (
            await sched_repo.find_reminder_state(ctx.session, ctx.person.id) if ctx.person else None
        )
        enabled = state is None or state.enabled
        chosen = state.hour if state is not None and state.hour is not None else settings.nudge_hour
        if enabled:
            lines = [ctx.t("reminders.on", hour=hour_words(ctx, chosen)), ctx.t("reminders.ask")]
        else:
            lines = [ctx.t("reminders.off"), ctx.t("reminders.ask")]
        choices = []
        for hour in settings.nudge_hours:
            label = hour_words(ctx, hour)
            if enabled and hour == chosen:
                label = ctx.t("reminders.current", label=label)
            choices.append(Choice(f"h:{hour}", label))
        if enabled:
            choices.append(ctx.choice("off", "reminders.turn_off"))
        else:
            choices.append(ctx.choice("on", "reminders.turn_on"))
        choices.append(menu_choice(ctx))
        return Outbound("\n".join(lines), tuple(choices), columns=3)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if ctx.person is None:
            ctx.goto("menu")
            return
        if choice_id.startswith("h:"):
            await set_hour(ctx, int(choice_id[2:]))
        elif choice_id in ("off", "on"):
            state = await sched_repo.reminder_state(ctx.session, ctx.person.id)
            state.enabled = choice_id == "on"
            if state.enabled:
                hour = state.hour if state.hour is not None else reminder_settings(ctx).nudge_hour
                ctx.say(ctx.t("reminders.turned_on", hour=hour_words(ctx, hour)))
            else:
                ctx.say(ctx.t("reminders.turned_off"))
            ctx.goto(self.name)
        else:
            ctx.goto("menu")


async def set_hour(ctx: Context, hour: int) -> None:
    """Remind at `hour` (local) from now on; an hour in the quiet hours is refused."""
    settings = reminder_settings(ctx)
    if ctx.person is None:
        return
    if settings.is_quiet(hour):
        ctx.say(
            ctx.t(
                "reminders.quiet",
                start=hour_words(ctx, settings.quiet_start),
                end=hour_words(ctx, settings.quiet_end),
            )
        )
    else:
        state = await sched_repo.reminder_state(ctx.session, ctx.person.id)
        state.hour = hour
        state.enabled = True
        ctx.say(ctx.t("reminders.saved", hour=hour_words(ctx, hour)))
    ctx.goto(RemindersScreen.name)


@text_hook
async def typed_hour(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """On /nhacnho, "8 giờ tối", "20h" or "20:00" is an hour; "7" is the 7th line."""
    if state.get("name") != RemindersScreen.name or ctx.person is None:
        return False
    hour = parse_hour(text)
    if hour is not None:
        await set_hour(ctx, hour)
        return True
    number = text.strip().rstrip(".)")
    offered = len(state.get("offered", []))
    if _BARE_NUMBER.match(number) and offered < int(number) <= 23:
        # Most likely an hour typed without "giờ": say how, rather than "not understood".
        ctx.say(ctx.t("reminders.number_hint", number=number, count=offered))
        return True
    return False


@screen
class NudgeScreen:
    name = "nudge"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        lesson = ctx.services.curriculum.lessons.get(args.get("lesson", ""))
        if lesson is None:  # content changed since the nudge was sent
            return Outbound(ctx.t("menu.text"), (menu_choice(ctx),))
        name = shown_name(ctx.person.display_name) if ctx.person else None
        hello = ctx.t("reminders.nudge.hello", name=name) if name else None
        started = bool(args.get("started"))
        body = ctx.t(
            "reminders.nudge.continue" if started else "reminders.nudge.start",
            title=lesson.title,
            minutes=lesson.minutes,
        )
        text = f"{hello or ctx.t('reminders.nudge.hello_anonymous')}\n{body}"
        return Outbound(
            text,
            (
                ctx.choice(f"l:{lesson.id}", "reminders.nudge.open"),
                ctx.choice("reminders", "reminders.nudge.settings"),
                menu_choice(ctx),
            ),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if not choice_id.startswith("l:"):
            ctx.goto(choice_id if choice_id == "reminders" else "menu")
            return
        lesson_id = choice_id[2:]
        resume = args.get("resume") or {}
        if resume.get("args", {}).get("lesson") == lesson_id:
            ctx.goto(resume["name"], **resume["args"])  # back where they stopped
            return
        await open_lesson(ctx, lesson_id)  # opens the paused card or quiz question, if any


def nudge_args(lesson_id: str, started: bool, current: dict[str, Any]) -> dict[str, Any] | None:
    """Args of the nudge screen replacing `current`, or None when the resident is in the
    middle of something else (a form, a team screen) that a nudge must not take over."""
    name = current.get("name")
    args: dict[str, Any] = {"lesson": lesson_id, "started": started}
    if name in RESUMABLE_SCREENS:
        args["resume"] = {"name": name, "args": current.get("args", {})}
    elif name and name not in IDLE_SCREENS:
        return None
    return args


async def hour_after_command(ctx: Context, text: str) -> None:
    """ "/nhacnho 9 giờ tối" sets the hour as if it were typed on the screen."""
    hour = parse_hour(text)
    if hour is None and _BARE_NUMBER.match(text.strip()):
        hour = int(text.strip())  # no list is shown yet: "/nhacnho 20" can only be an hour
        hour = hour if hour <= 23 else None
    if hour is not None:
        await set_hour(ctx, hour)
    else:
        ctx.say(ctx.t("reminders.not_an_hour", text=text))


command("nhacnho", RemindersScreen.name, needs_person=True, typed=hour_after_command)
