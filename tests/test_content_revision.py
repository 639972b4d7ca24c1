"""Content revisions: what a resident reads decides them, nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.content.loader import default_content_root, load_curriculum
from bot.content.revision import lesson_revision, quiz_revision


def test_revisions_are_stable_across_loads_and_change_with_what_residents_read() -> None:
    first = load_curriculum(default_content_root())
    again = load_curriculum(default_content_root())
    lesson = next(iter(first.lessons.values()))
    quiz = first.quizzes[lesson.id]
    assert lesson_revision(lesson) == lesson_revision(again.lessons[lesson.id])
    assert quiz_revision(quiz) == quiz_revision(again.quizzes[lesson.id])
    # A new review date or title leaves everybody's place valid...
    assert lesson_revision(replace(lesson, reviewed=date(2030, 1, 1), title="Khác")) == (
        lesson_revision(lesson)
    )
    # ...a reworded card, a dropped question or reordered options do not.
    card = replace(lesson.cards[0], text=lesson.cards[0].text + " Thêm một câu.")
    assert lesson_revision(replace(lesson, cards=(card, *lesson.cards[1:]))) != (
        lesson_revision(lesson)
    )
    assert quiz_revision(replace(quiz, questions=quiz.questions[:-1])) != quiz_revision(quiz)
    question = quiz.questions[0]
    reordered = replace(question, options=tuple(reversed(question.options)))
    assert quiz_revision(replace(quiz, questions=(reordered, *quiz.questions[1:]))) != (
        quiz_revision(quiz)
    )
