"""“Hỏi cán bộ”: a resident asks their village's team (/hoicanbo); members answer from
their tools (/cauhoi) and the answer is relayed back. Unanswered questions go to the
commune's admins after a while (bot/team/escalation.py)."""

from __future__ import annotations

from typing import Any

from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.roles import can, deny, guard, require, roles_of
from bot.core.screens import command, menu_entry, screen
from bot.core.screens.learning import menu_choice
from bot.core.screens.team import refused
from bot.core.screens.typed import accepts_text
from bot.operations import actor_in_chat
from bot.operations import questions as ops
from bot.team import options
from bot.team import questions as service
from storage import repo, team_repo
from storage.models import Village
from storage.team_models import TeamQuestion

LIST_QUOTE = 120


def cancel_choice(ctx: Context) -> Choice:
    return ctx.choice("cancel", "questions.cancel")


@accepts_text
@screen
class AskTeamScreen:
    name = "ask_team"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        person = ctx.person
        if person is None or not await can(ctx, "ask_team"):
            return refused(ctx)
        if person.village_id is None:
            unit = ctx.commune.unit_label
            return Outbound(ctx.t("questions.no_village", unit=unit), (menu_choice(ctx),))
        village = await ctx.session.get(Village, person.village_id)
        if await repo.team_for_village(ctx.session, person.village_id) is None:
            text = ctx.t("questions.ask_commune", commune=ctx.commune.name)
        else:
            text = ctx.t("questions.ask", village=village.name if village else "")
        return Outbound(text, (cancel_choice(ctx),))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "cancel":
            ctx.say(ctx.t("questions.cancelled"))
        ctx.goto("menu")

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        person = ctx.person
        if person is None or person.village_id is None or not await require(ctx, "ask_team"):
            ctx.goto("menu")
            return
        waiting = await team_repo.count_open_questions_of(ctx.session, person.id)
        if waiting >= service.MAX_OPEN_PER_PERSON:
            ctx.say(ctx.t("questions.too_many", count=waiting))
            ctx.goto("menu")
            return
        await service.ask(ctx.session, ctx.t, person, text.strip(), ctx.now)
        hours = options.escalate_hours(ctx.services)
        ctx.say(ctx.t("questions.sent", hours=f"{hours:g}"))
        ctx.goto("menu")


async def answerable(ctx: Context) -> list[TeamQuestion]:
    """Open questions this person may answer (bot/operations/questions.py)."""
    actor = await actor_in_chat(ctx)
    return [] if actor is None else await ops.answerable(ctx.session, actor, ctx.commune)


async def may_answer(ctx: Context, question: TeamQuestion | None) -> bool:
    actor = await actor_in_chat(ctx)
    return actor is not None and await ops.may_answer(
        ctx.session, actor, ctx.commune, question
    )


def _back(ctx: Context, is_team: bool) -> Choice:
    return ctx.choice("team", "team.back") if is_team else ctx.choice("admin", "admin.back")


@screen
class TeamQuestionsScreen:
    name = "team_questions"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        if not await can(ctx, "answer_questions"):
            return refused(ctx)
        questions = await answerable(ctx)
        lines = [ctx.t("questions.list_title") if questions else ctx.t("questions.list_empty")]
        choices = []
        for n, question in enumerate(questions, start=1):
            name, village = await service.asker_labels(ctx.session, ctx.t, question.person_id)
            lines.append(
                ctx.t(
                    "questions.list_line",
                    n=n,
                    name=name,
                    village=village,
                    when=question.asked_at.astimezone(ctx.services.tz).strftime("%d/%m %H:%M"),
                    text=service.quote(question.text, LIST_QUOTE),
                )
            )
            choices.append(ctx.choice(f"q:{question.id}", "questions.pick", n=n))
        roles = await roles_of(ctx)
        choices.append(_back(ctx, roles.team is not None))
        choices.append(menu_choice(ctx))
        return Outbound("\n".join(lines), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if not choice_id.startswith("q:"):
            ctx.goto(choice_id if choice_id in ("team", "admin") else "menu")
            return
        question = await ctx.session.get(TeamQuestion, int(choice_id[2:]))
        if not await may_answer(ctx, question):
            deny(ctx, "answer_questions")
            return
        ctx.goto("team_answer", question=question.id)


@accepts_text
@screen
class AnswerScreen:
    name = "team_answer"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        question = await ctx.session.get(TeamQuestion, int(args.get("question", 0)))
        if not await may_answer(ctx, question):
            return refused(ctx)
        name, village = await service.asker_labels(ctx.session, ctx.t, question.person_id)
        text = ctx.t("questions.answer_ask", name=name, village=village, text=question.text)
        return Outbound(text, (cancel_choice(ctx),))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        ctx.goto("team_questions")

    async def typed(self, ctx: Context, args: dict[str, Any], text: str) -> None:
        actor = await actor_in_chat(ctx)
        if actor is None:
            deny(ctx, "answer_questions")
            return
        try:
            await ops.answer_question(
                ctx.session,
                actor,
                ctx.commune,
                question_id=int(args.get("question", 0)),
                text=text,
                now=ctx.now,
                texts=ctx.t,
            )
        except ops.NotAllowed:
            deny(ctx, "answer_questions")
            return
        except ops.AlreadyAnswered:
            ctx.say(ctx.t("questions.answered_already"))
        except ValueError:
            ctx.say(ctx.t("questions.answer_bad"))
            return
        else:
            ctx.say(ctx.t("questions.answer_sent"))
        ctx.goto("team_questions")


async def may_ask(ctx: Context) -> bool:
    """The menu offers "Hỏi cán bộ" to residents who said where they live."""
    return (
        ctx.person is not None and ctx.person.village_id is not None and await can(ctx, "ask_team")
    )


command("hoicanbo", "ask_team", needs_person=True, guard=guard("ask_team"))
menu_entry("ask_team", "questions.menu_entry", "ask_team", may_ask)
command("cauhoi", "team_questions", needs_person=True, guard=guard("answer_questions"))
