"""The quiz: one question at a time, options shuffled per attempt, feedback at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import programme
from bot.content.model import Quiz
from bot.content.revision import quiz_revision
from bot.core import resume
from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.screens import Redirect, screen
from bot.core.screens.learning import first_card, menu_choice, open_lesson
from storage import repo
from storage.models import QuizAttempt

LETTERS = "ABCD"


def new_attempt(ctx: Context, lesson_id: str) -> dict[str, Any]:
    quiz = ctx.services.curriculum.quizzes[lesson_id]
    orders = []
    for question in quiz.questions:
        order = list(range(len(question.options)))
        ctx.services.rng.shuffle(order)
        orders.append(order)
    return {
        "lesson": lesson_id,
        "q": 0,
        "orders": orders,
        "answers": [],
        "started": ctx.now.isoformat(),
        "rev": quiz_revision(quiz),
    }


def _fits(quiz: Quiz, args: dict[str, Any]) -> bool:
    """Whether an attempt's position, option orders and answers point into `quiz`."""
    try:
        index, orders, answers = int(args["q"]), args["orders"], args["answers"]
        return (
            0 <= index < len(quiz.questions)
            and len(answers) == index
            and len(orders) == len(quiz.questions)
            and all(
                sorted(order) == list(range(len(question.options)))
                for order, question in zip(orders, quiz.questions, strict=True)
            )
        )
    except (KeyError, TypeError, ValueError):
        return False


@screen
class QuizScreen:
    name = "quiz"

    async def stale(self, ctx: Context, args: dict[str, Any]) -> Redirect | None:
        """The quiz was edited (or removed) since this attempt began: the attempt
        cannot go on, so it starts again on today's questions. Nothing was recorded
        for it yet; finished attempts stay as they were."""
        lesson_id = str(args.get("lesson", ""))
        quiz = ctx.services.curriculum.quizzes.get(lesson_id)
        if lesson_id not in ctx.services.curriculum.lessons or quiz is None:
            return Redirect("resume.removed", "catalogue", {})
        rev = args.get("rev")  # absent on attempts begun before revisions existed
        if (rev is not None and rev != quiz_revision(quiz)) or not _fits(quiz, args):
            return Redirect("resume.updated", self.name, new_attempt(ctx, lesson_id))
        return None

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        quiz = ctx.services.curriculum.quizzes[args["lesson"]]
        index = int(args["q"])
        question = quiz.questions[index]
        order = args["orders"][index]
        total = len(quiz.questions)
        lines = [ctx.t("quiz.question", n=index + 1, total=total), question.text]
        if index == 0:  # the pass mark, as a count, before the first question
            lines.insert(1, ctx.t("quiz.pass_mark", need=quiz.pass_count, total=total))
        choices = tuple(
            Choice(f"a{shown}", question.options[original].text)
            for shown, original in enumerate(order)
        )
        return Outbound("\n".join(lines), choices)

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        quiz = ctx.services.curriculum.quizzes[args["lesson"]]
        index = int(args["q"])
        question = quiz.questions[index]
        shown = int(choice_id[1:]) if choice_id[1:].isdigit() else -1
        if not choice_id.startswith("a") or not 0 <= shown < len(args["orders"][index]):
            ctx.say(ctx.t("common.stale"))
            return
        original = args["orders"][index][shown]
        correct = original == question.correct_index
        right_text = question.options[question.correct_index].text
        if correct:
            ctx.say(ctx.t("quiz.right", explanation=question.explanation))
        else:
            ctx.say(ctx.t("quiz.wrong", answer=right_text, explanation=question.explanation))
        answers = [*args["answers"], {"question": question.id, "chosen": original, "ok": correct}]
        if index + 1 < len(quiz.questions):
            ctx.goto(self.name, **{**args, "q": index + 1, "answers": answers})
            return
        await self._finish(ctx, args, answers)

    async def _finish(self, ctx: Context, args: dict[str, Any], answers: list[dict]) -> None:
        lesson_id = args["lesson"]
        quiz = ctx.services.curriculum.quizzes[lesson_id]
        score = sum(1 for answer in answers if answer["ok"])
        passed = quiz.passed(score)
        if ctx.person is not None:
            ctx.session.add(
                QuizAttempt(
                    person_id=ctx.person.id,
                    lesson_id=lesson_id,
                    answers=answers,
                    score=score,
                    total=len(quiz.questions),
                    passed=passed,
                    started_at=datetime.fromisoformat(args["started"]),
                    finished_at=ctx.now,
                )
            )
            await ctx.record("quiz_passed" if passed else "quiz_failed", lesson_id=lesson_id)
            await resume.forget(ctx, resume.lesson_slot(lesson_id))  # done: no place to resume
            if passed:
                core = ctx.services.curriculum.core_lesson_ids()
                await programme.record_pass(
                    ctx.session, ctx.person, lesson_id, core, channel=ctx.channel, at=ctx.now
                )
                row = await repo.get_progress(ctx.session, ctx.person.id, lesson_id)
                if row is not None and row.passed_at is None:
                    row.passed_at = ctx.now
        ctx.goto(
            "quiz_result", lesson=lesson_id, score=score, total=len(quiz.questions), passed=passed
        )


@screen
class QuizResultScreen:
    name = "quiz_result"

    async def stale(self, ctx: Context, args: dict[str, Any]) -> Redirect | None:
        """The score shown is the one recorded; only a lesson gone altogether moves on."""
        lesson_id = str(args.get("lesson", ""))
        curriculum = ctx.services.curriculum
        if lesson_id not in curriculum.lessons or lesson_id not in curriculum.quizzes:
            return Redirect("resume.removed", "catalogue", {})
        return None

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        curriculum = ctx.services.curriculum
        lesson = curriculum.lessons[args["lesson"]]
        quiz = curriculum.quizzes[lesson.id]
        key = "quiz.passed" if args["passed"] else "quiz.failed"
        text = ctx.t(key, score=args["score"], total=args["total"], need=quiz.pass_count)
        choices: list[Choice] = []
        if args["passed"]:
            progress = (
                await repo.progress_by_lesson(ctx.session, ctx.person.id) if ctx.person else {}
            )
            done = {lid for lid, row in progress.items() if row.passed_at}
            following = curriculum.next_lesson_after(lesson.id, done)
            if following is not None:
                choices.append(ctx.choice(f"l:{following.id}", "quiz.next", title=following.title))
            else:
                text += "\n\n" + ctx.t("progress.all_done")
        else:
            choices.append(ctx.choice("retry", "quiz.retry"))
            choices.append(ctx.choice("reread", "quiz.reread"))
        choices.append(menu_choice(ctx))
        return Outbound(text, tuple(choices))

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id.startswith("l:"):
            await open_lesson(ctx, choice_id[2:])
        elif choice_id == "retry":
            ctx.goto("quiz", **new_attempt(ctx, args["lesson"]))
        elif choice_id == "reread":
            ctx.goto("lesson", **first_card(ctx.services.curriculum.lessons[args["lesson"]]))
        else:
            ctx.goto("menu")


resume.resumable(QuizScreen.name, lambda args: resume.lesson_slot(str(args.get("lesson", ""))))
