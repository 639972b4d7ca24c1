"""Checks on what a lesson says and how fair its quiz is (the file structure is already valid).

These rules catch what made the old quizzes passable without reading the lesson and the
old cards hard to read: the right option standing out by its length or by carrying its
own reason, text typed without diacritics, long sentences, too few situation questions,
the same question asked twice in the bank, and facts not re-read for a long time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from difflib import SequenceMatcher

from bot.content.model import (
    MAX_LONGEST_CORRECT_SHARE,
    MAX_SENTENCE_WORDS,
    MIN_SITUATION_SHARE,
    NEAR_DUPLICATE_RATIO,
    Lesson,
    Problem,
    Question,
    Quiz,
)

# An option that explains itself ("Tắt máy, vì ...") gives the answer away.
_BECAUSE = re.compile(r"(?<!\w)vì(?!\w)", re.IGNORECASE)
# A sentence ends at . ! ? : or … followed by a space, or at a line break (bullets).
_SENTENCE_END = re.compile(r"(?<=[.!?:…])\s+|\n")
_NON_WORD = re.compile(r"[^\w\s]|_")


def check(
    lessons: Iterable[Lesson],
    quizzes: Iterable[Quiz],
    today: date | None = None,
    max_review_age_days: int | None = None,
) -> list[Problem]:
    """Problems in structurally valid lessons and quizzes; review age only when asked."""
    problems: list[Problem] = []
    for lesson in lessons:
        problems.extend(_lesson(lesson))
        if today is not None and max_review_age_days is not None:
            problems.extend(_review_age(lesson, today, max_review_age_days))
    ordered = sorted(quizzes, key=lambda quiz: quiz.path)
    for quiz in ordered:
        problems.extend(_quiz(quiz))
    problems.extend(_near_duplicates(ordered))
    return problems


def longest_is_correct(question: Question) -> bool:
    """True when the right option is (one of) the longest: a reader could guess by length."""
    longest = max(len(option.text) for option in question.options)
    return len(question.options[question.correct_index].text) == longest


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def word_count(sentence: str) -> int:
    return sum(1 for token in sentence.split() if any(ch.isalnum() for ch in token))


def lacks_diacritics(text: str) -> bool:
    """True when the text has letters and all of them are ASCII (typed without accents)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isascii() for ch in letters)


def similarity(first: str, second: str) -> float:
    """How alike two question texts are, 0-1, compared word by word after normalising."""
    words = (_normalised(first).split(), _normalised(second).split())
    return SequenceMatcher(None, *words, autojunk=False).ratio()


# --------------------------------------------------------------------------- rules


def _long_sentences(path: str, line: int, label: str, text: str) -> Iterator[Problem]:
    for sentence in sentences(text):
        words = word_count(sentence)
        if words > MAX_SENTENCE_WORDS:
            start = " ".join(sentence.split()[:6])
            yield Problem(
                path,
                line,
                f"{label} has a sentence of {words} words (at most {MAX_SENTENCE_WORDS}): "
                f"“{start} …”",
            )


def _lesson(lesson: Lesson) -> Iterator[Problem]:
    path, lines = lesson.path, lesson.lines
    yield from _long_sentences(path, lines.get("summary", 1), "summary", lesson.summary)
    yield from _long_sentences(path, lines.get("action", 1), "action", lesson.action)
    for number, card in enumerate(lesson.cards, start=1):
        label = f"card {number}"
        if lacks_diacritics(card.text):
            reason = f"{label} has no Vietnamese diacritics (all letters ASCII)"
            yield Problem(path, card.line, reason)
        yield from _long_sentences(path, card.line, label, card.text)


def _review_age(lesson: Lesson, today: date, max_days: int) -> Iterator[Problem]:
    age = (today - lesson.reviewed).days
    if age > max_days:
        yield Problem(
            lesson.path,
            lesson.lines.get("reviewed", 1),
            f"reviewed {lesson.reviewed.isoformat()} is {age} days ago (more than {max_days}): "
            "re-read the facts against the sources",
            warning=True,
        )


def _quiz(quiz: Quiz) -> Iterator[Problem]:
    path = quiz.path
    total = len(quiz.questions)
    line = quiz.lines.get("questions", 1)
    longest = sum(1 for question in quiz.questions if longest_is_correct(question))
    most, out_of = MAX_LONGEST_CORRECT_SHARE
    if longest * out_of > most * total:
        yield Problem(
            path,
            line,
            f"the right option is the longest in {longest} of {total} questions "
            f"(at most {most}/{out_of}; aim for a third)",
        )
    situations = sum(1 for question in quiz.questions if question.kind == "situation")
    least, of = MIN_SITUATION_SHARE
    if situations * of < least * total:
        yield Problem(
            path,
            line,
            f"{situations} of {total} questions are situations (at least {least}/{of} needed)",
        )
    for question in quiz.questions:
        name = f"question {question.id}"
        yield from _long_sentences(path, question.line, f"{name} text", question.text)
        yield from _long_sentences(
            path, question.explanation_line, f"{name} explanation", question.explanation
        )
        for number, option in enumerate(question.options, start=1):
            label = f"{name} option {number}"
            if _BECAUSE.search(option.text):
                yield Problem(
                    path, option.line, f"{label} contains 'vì' (an option must not give its reason)"
                )
            if lacks_diacritics(option.text):
                yield Problem(
                    path, option.line, f"{label} has no Vietnamese diacritics (all letters ASCII)"
                )


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def _near_duplicates(quizzes: list[Quiz]) -> Iterator[Problem]:
    """Each question that nearly repeats an earlier one in the bank, at the later one.

    Texts are compared word by word (`difflib` on word lists): a reworded copy scores
    above 0.9 while two different situations with the same framing ("Bạn làm gì?") stay
    near 0.5, and it is fast enough for every pair of a bank of hundreds of questions.
    """
    seen: list[tuple[Quiz, Question, list[str]]] = []
    matcher = SequenceMatcher(None, autojunk=False)
    for quiz in quizzes:
        for question in quiz.questions:
            words = _normalised(question.text).split()
            matcher.set_seq2(words)  # the expensive side is prepared once per question
            for other_quiz, other, other_words in seen:
                matcher.set_seq1(other_words)
                if matcher.real_quick_ratio() < NEAR_DUPLICATE_RATIO:
                    continue
                if matcher.quick_ratio() < NEAR_DUPLICATE_RATIO:
                    continue
                ratio = matcher.ratio()
                if ratio >= NEAR_DUPLICATE_RATIO:
                    yield Problem(
                        quiz.path,
                        question.line,
                        f"question {question.id} is nearly the same as question {other.id} "
                        f"({other_quiz.path}:{other.line}, {round(ratio * 100)}% alike)",
                    )
                    break
            seen.append((quiz, question, words))
