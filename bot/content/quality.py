"""Checks on what a lesson says and how fair its quiz is (the file structure is already valid).

These rules catch what made the old quizzes passable without reading the lesson and the
old cards hard to read: the right option standing out by its length (the longest, or the
shortest) or by carrying its own reason, text typed without diacritics, long sentences,
too few situation questions, the same question asked twice in the bank, and facts not
re-read for a long time. Reasons are in `bot/i18n/vi/content.yaml`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from difflib import SequenceMatcher

from bot.content import messages as m
from bot.content.model import (
    MAX_LONGEST_CORRECT_SHARE,
    MAX_SENTENCE_WORDS,
    MAX_SHORTEST_CORRECT_SHARE,
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


def shortest_is_correct(question: Question) -> bool:
    """True when the right option is strictly the shortest: a reader could guess the other way.

    Strictly: options of equal length are common ("Có", "Không") and give nothing away.
    """
    right = question.correct_index
    others = [len(o.text) for i, o in enumerate(question.options) if i != right]
    return bool(others) and len(question.options[right].text) < min(others)


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
            reason = m.t(
                "long_sentence", label=label, words=words, most=MAX_SENTENCE_WORDS, start=start
            )
            yield Problem(path, line, reason)


def _lesson(lesson: Lesson) -> Iterator[Problem]:
    path, lines = lesson.path, lesson.lines
    summary, action = m.field("summary"), m.field("action")
    yield from _long_sentences(path, lines.get("summary", 1), summary, lesson.summary)
    yield from _long_sentences(path, lines.get("action", 1), action, lesson.action)
    for number, card in enumerate(lesson.cards, start=1):
        label = m.card(number)
        if lacks_diacritics(card.text):
            yield Problem(path, card.line, m.t("no_diacritics", label=label))
        yield from _long_sentences(path, card.line, label, card.text)


def _review_age(lesson: Lesson, today: date, max_days: int) -> Iterator[Problem]:
    age = (today - lesson.reviewed).days
    if age > max_days:
        yield Problem(
            lesson.path,
            lesson.lines.get("reviewed", 1),
            m.t("review_old", day=lesson.reviewed.isoformat(), age=age, most=max_days),
            warning=True,
        )


def _quiz(quiz: Quiz) -> Iterator[Problem]:
    path = quiz.path
    total = len(quiz.questions)
    line = quiz.lines.get("questions", 1)
    for rule, key, share in (
        (longest_is_correct, "longest_correct", MAX_LONGEST_CORRECT_SHARE),
        (shortest_is_correct, "shortest_correct", MAX_SHORTEST_CORRECT_SHARE),
    ):
        count = sum(1 for question in quiz.questions if rule(question))
        most, out_of = share
        if count * out_of > most * total:
            yield Problem(path, line, m.t(key, count=count, total=total, most=most, out_of=out_of))
    situations = sum(1 for question in quiz.questions if question.kind == "situation")
    least, of = MIN_SITUATION_SHARE
    if situations * of < least * total:
        reason = m.t("few_situations", count=situations, total=total, least=least, of=of)
        yield Problem(path, line, reason)
    for question in quiz.questions:
        name = m.question(question.id)
        text, explanation = m.part(name, m.field("text")), m.part(name, m.field("explanation"))
        yield from _long_sentences(path, question.line, text, question.text)
        yield from _long_sentences(
            path, question.explanation_line, explanation, question.explanation
        )
        for number, option in enumerate(question.options, start=1):
            label = m.option(name, number)
            if _BECAUSE.search(option.text):
                yield Problem(path, option.line, m.t("option_because", label=label))
            if lacks_diacritics(option.text):
                yield Problem(path, option.line, m.t("no_diacritics", label=label))


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
                    reason = m.t(
                        "near_duplicate",
                        id=question.id,
                        other=other.id,
                        path=other_quiz.path,
                        line=other.line,
                        percent=round(ratio * 100),
                    )
                    yield Problem(quiz.path, question.line, reason)
                    break
            seen.append((quiz, question, words))
