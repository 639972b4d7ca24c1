"""Main menu, lesson catalogue by topic, lesson cards, progress and help."""

from __future__ import annotations

from typing import Any

from bot.content.model import Lesson
from bot.content.revision import lesson_revision
from bot.core import resume
from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.screens import MENU_ENTRIES, Redirect, command, screen, stale_redirect
from storage import repo
from storage.models import LessonProgress


async def progress_of(ctx: Context) -> dict[str, LessonProgress]:
    if ctx.person is None:
        return {}
    return await repo.progress_by_lesson(ctx.session, ctx.person.id)


def mark(progress: dict[str, LessonProgress], lesson_id: str) -> str:
    row = progress.get(lesson_id)
    if row is None:
        return "▫️"
    if row.passed_at is not None:
        return "✅"
    return "📖"


def next_lesson(ctx: Context, progress: dict[str, LessonProgress]) -> Lesson | None:
    """The lesson to continue: one in progress first, else the first not yet passed."""
    lessons = ctx.services.curriculum.lessons
    for lesson_id, row in sorted(progress.items(), key=lambda item: item[1].started_at):
        if row.passed_at is None and lesson_id in lessons:
            return lessons[lesson_id]
    return next((les for les in lessons.values() if les.id not in progress), None)


def menu_choice(ctx: Context) -> Choice:
    return ctx.choice("menu", "menu.back")


async def continue_choice(
    ctx: Context, lesson: Lesson, progress: dict[str, LessonProgress]
) -> Choice:
    """ "Học bài" for a lesson not begun; "Học tiếp" naming the card or question it
    reopens when the resident stopped part-way (and that place is still valid)."""
    if lesson.id not in progress:
        return ctx.choice(f"l:{lesson.id}", "menu.start_lesson", title=lesson.title)
    point = await resume.paused(ctx, resume.lesson_slot(lesson.id))
    if point is not None and await stale_redirect(ctx, *point) is None:
        name, args = point
        if name == "quiz":
            total = len(ctx.services.curriculum.quizzes[lesson.id].questions)
            n = int(args["q"]) + 1
            return ctx.choice(
                f"l:{lesson.id}", "resume.continue_question", title=lesson.title, n=n, total=total
            )
        n, total = int(args.get("card", 0)) + 1, len(lesson.cards)
        return ctx.choice(
            f"l:{lesson.id}", "resume.continue_card", title=lesson.title, n=n, total=total
        )
    return ctx.choice(f"l:{lesson.id}", "menu.continue", title=lesson.title)


@screen
class MenuScreen:
    name = "menu"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        progress = await progress_of(ctx)
        choices: list[Choice] = []
        upcoming = next_lesson(ctx, progress)
        if upcoming is not None:
            choices.append(await continue_choice(ctx, upcoming, progress))
        choices += [
            ctx.choice("catalogue", "menu.catalogue"),
            ctx.choice("progress", "menu.progress"),
        ]
        for entry in MENU_ENTRIES:
            if await entry.visible(ctx):
                choices.append(ctx.choice(entry.id, entry.label_key))
        choices.append(ctx.choice("help", "menu.help"))
        if ctx.person is not None:
            choices.append(ctx.choice("mydata", "menu.mydata"))
        else:
            choices.append(ctx.choice("consent", "guest.change_mind"))
        return Outbound(ctx.t("menu.text"), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        entry = next((e for e in MENU_ENTRIES if e.id == choice_id), None)
        if choice_id.startswith("l:"):
            await open_lesson(ctx, choice_id[2:])
        elif entry is not None:
            # Re-check: the entry was offered, but roles may have changed since.
            ctx.goto(entry.screen if await entry.visible(ctx) else self.name)
        else:
            ctx.goto(choice_id)


@screen
class CatalogueScreen:
    name = "catalogue"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        progress = await progress_of(ctx)
        curriculum = ctx.services.curriculum
        lines = [ctx.t("catalogue.title")]
        choices = []
        for topic in curriculum.ordered_topics():
            lessons = curriculum.lessons_in_topic(topic.id)
            if not lessons:
                continue
            passed = sum(1 for les in lessons if mark(progress, les.id) == "✅")
            lines.append(
                ctx.t("catalogue.topic_line", title=topic.title, passed=passed, total=len(lessons))
            )
            choices.append(Choice(f"t:{topic.id}", topic.title))
        # No legend here: topic lines carry counts, not marks (the topic page has both).
        choices.append(menu_choice(ctx))
        return Outbound("\n".join(lines), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id.startswith("t:"):
            ctx.goto("topic", topic=choice_id[2:])
        else:
            ctx.goto("menu")


@screen
class TopicScreen:
    name = "topic"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        curriculum = ctx.services.curriculum
        topic = curriculum.topics.get(args.get("topic", ""))
        if topic is None:
            return await CatalogueScreen().render(ctx, {})
        progress = await progress_of(ctx)
        lines = [ctx.t("topic.title", title=topic.title)]
        choices = []
        for lesson in curriculum.lessons_in_topic(topic.id):
            lines.append(
                ctx.t(
                    "topic.lesson_line",
                    mark=mark(progress, lesson.id),
                    title=lesson.title,
                    minutes=lesson.minutes,
                )
            )
            choices.append(Choice(f"l:{lesson.id}", f"{mark(progress, lesson.id)} {lesson.title}"))
        lines.append("")
        lines.append(ctx.t("catalogue.legend"))
        choices.append(ctx.choice("catalogue", "topic.back"))
        choices.append(menu_choice(ctx))
        return Outbound("\n".join(lines), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id.startswith("l:"):
            await open_lesson(ctx, choice_id[2:])
        else:
            ctx.goto(choice_id)


def first_card(lesson: Lesson) -> dict[str, Any]:
    return {"lesson": lesson.id, "card": 0, "rev": lesson_revision(lesson)}


async def open_lesson(ctx: Context, lesson_id: str) -> None:
    """Open a lesson where the resident left it (a card, or a question of its quiz),
    else at its first card."""
    lesson = ctx.services.curriculum.lessons.get(lesson_id)
    if lesson is None:
        ctx.say(ctx.t("common.stale"))
        ctx.goto("catalogue")
        return
    if ctx.person is not None:
        row = await repo.get_progress(ctx.session, ctx.person.id, lesson_id)
        if row is None:
            ctx.session.add(
                LessonProgress(
                    person_id=ctx.person.id, lesson_id=lesson_id, card_index=0, started_at=ctx.now
                )
            )
            await ctx.record("lesson_started", lesson_id=lesson_id)
    point = await resume.paused(ctx, resume.lesson_slot(lesson_id))
    if point is not None and point[1].get("lesson") == lesson_id:
        ctx.goto(point[0], **point[1])  # checked against today's content before showing
    else:
        ctx.goto("lesson", **first_card(lesson))


@screen
class LessonScreen:
    name = "lesson"

    async def stale(self, ctx: Context, args: dict[str, Any]) -> Redirect | None:
        lesson = ctx.services.curriculum.lessons.get(str(args.get("lesson", "")))
        if lesson is None:
            return Redirect("resume.removed", "catalogue", {})
        rev = args.get("rev")  # absent on screens stored before revisions existed
        card = args.get("card", 0)
        in_range = isinstance(card, int) and 0 <= card < len(lesson.cards)
        if not in_range or (rev is not None and rev != lesson_revision(lesson)):
            return Redirect("resume.updated", self.name, first_card(lesson))
        return None

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        lesson = ctx.services.curriculum.lessons[args["lesson"]]
        index = min(int(args.get("card", 0)), len(lesson.cards) - 1)
        card = lesson.cards[index]
        header = ctx.t("lesson.header", title=lesson.title, n=index + 1, total=len(lesson.cards))
        choices = []
        last = index == len(lesson.cards) - 1
        if last:
            if ctx.person is not None:
                choices.append(ctx.choice("quiz", "lesson.quiz"))
            else:
                choices.append(ctx.choice("consent", "lesson.quiz_needs_consent"))
        else:
            choices.append(ctx.choice("next", "lesson.next"))
        if index > 0:
            choices.append(ctx.choice("prev", "lesson.prev"))
        choices.append(menu_choice(ctx))
        image = None
        if card.image:
            image = card.image
        return Outbound(f"{header}\n\n{card.text}", tuple(choices), image=image)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        lesson = ctx.services.curriculum.lessons[args["lesson"]]
        index = int(args.get("card", 0))
        if choice_id in ("next", "prev"):
            index = index + 1 if choice_id == "next" else index - 1
            index = min(max(index, 0), len(lesson.cards) - 1)
            if index == len(lesson.cards) - 1:
                await self._complete(ctx, lesson.id)
            await self._remember(ctx, lesson.id, index)
            ctx.goto(self.name, lesson=lesson.id, card=index, rev=lesson_revision(lesson))
        elif choice_id == "quiz":
            from bot.core.screens.quiz import new_attempt  # quiz imports this module

            ctx.goto("quiz", **new_attempt(ctx, lesson.id))
        else:
            ctx.goto(choice_id)

    async def _remember(self, ctx: Context, lesson_id: str, index: int) -> None:
        if ctx.person is not None:  # one conditional UPDATE: the furthest card read
            await repo.advance_card(ctx.session, ctx.person.id, lesson_id, index)

    async def _complete(self, ctx: Context, lesson_id: str) -> None:
        """Reaching the last card completes the lesson (once); the quiz is separate."""
        if ctx.person is None:
            return
        row = await repo.get_progress(ctx.session, ctx.person.id, lesson_id)
        if row is not None and row.completed_at is None:
            row.completed_at = ctx.now
            await ctx.record("lesson_completed", lesson_id=lesson_id)


@screen
class ProgressScreen:
    name = "progress"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        progress = await progress_of(ctx)
        lessons = ctx.services.curriculum.lessons
        passed = sum(1 for lid in lessons if mark(progress, lid) == "✅")
        read = sum(1 for lid in lessons if lid in progress and progress[lid].completed_at)
        lines = [ctx.t("progress.summary", passed=passed, read=read, total=len(lessons))]
        for lesson in lessons.values():
            lines.append(f"{mark(progress, lesson.id)} {lesson.title}")
        lines.append("")
        lines.append(ctx.t("catalogue.legend"))
        if passed == len(lessons):
            lines.append(ctx.t("progress.all_done"))
        choices = []
        upcoming = next_lesson(ctx, progress)
        if upcoming is not None:
            choices.append(await continue_choice(ctx, upcoming, progress))
        choices.append(ctx.choice("self_report", "self_report.entry"))
        choices.append(menu_choice(ctx))
        return Outbound("\n".join(lines), tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id.startswith("l:"):
            await open_lesson(ctx, choice_id[2:])
        elif choice_id == "self_report":
            ctx.goto("self_report")
        else:
            ctx.goto("menu")


command("menu", "menu")
command("baihoc", "catalogue")
command("tiendo", "progress", needs_person=True)


resume.resumable(LessonScreen.name, lambda args: resume.lesson_slot(str(args.get("lesson", ""))))
