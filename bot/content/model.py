"""The curriculum as the engine sees it: immutable, already validated.

Files under `lessons/` and `quizzes/` are parsed and checked by `bot.content.loader`;
only a curriculum with no problems is ever handed to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.content.messages import t

SCHEMA_VERSION = 2

# Limits that keep a lesson to about three minutes on a small phone screen, and a card or
# question inside one Zalo message (2,000 characters) with room for the numbered choices.
MAX_CARD_CHARS = 500
MIN_CARDS, MAX_CARDS = 3, 5
MIN_MINUTES, MAX_MINUTES = 2, 4
MAX_SENTENCE_WORDS = 25
MAX_QUESTION_CHARS = 300
MAX_OPTION_CHARS = 80
MAX_EXPLANATION_CHARS = 400
MIN_OPTIONS, MAX_OPTIONS = 3, 4
MIN_QUESTIONS = 6
MAX_TITLE_CHARS = 60
MAX_SUMMARY_CHARS = 140
MAX_ACTION_CHARS = 120

# Quiz fairness: the right option may be the longest in at most half of the questions
# (writers aim for a third), strictly the shortest in at most half too (a reader who learnt
# "never the longest" must not find it the other way), and at least two thirds of the
# questions are situations.
MAX_LONGEST_CORRECT_SHARE = (1, 2)
MAX_SHORTEST_CORRECT_SHARE = (1, 2)
MIN_SITUATION_SHARE = (2, 3)
QUESTION_KINDS = ("situation", "knowledge")
# Two questions whose normalised texts are at least this alike are reported as duplicates.
NEAR_DUPLICATE_RATIO = 0.85
DEFAULT_MAX_REVIEW_AGE_DAYS = 365


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a content file, printed as `file:line: reason`
    (`file:line: cảnh báo: reason` for a warning)."""

    path: str
    line: int
    reason: str
    warning: bool = False  # shown, but does not fail the check or stop the service

    def __str__(self) -> str:
        tag = f"{t('warning')}: " if self.warning else ""
        return f"{self.path}:{self.line}: {tag}{self.reason}"


@dataclass(frozen=True)
class Source:
    title: str
    publisher: str
    date: str  # YYYY-MM-DD, YYYY-MM or YYYY: as precise as the source says
    url: str | None = None
    document: str | None = None  # a document number when there is no url
    line: int = field(default=0, compare=False)  # where it starts in its file


@dataclass(frozen=True)
class Review:
    facts: str  # who checked the facts against which sources, what was fixed
    readability: str  # who read it as an older resident on a small phone, what was fixed


@dataclass(frozen=True)
class FrameworkTags:
    """Tags from the closed lists in `bot.content.frameworks` (keys, not wording)."""

    cv3139: tuple[str, ...] = ()
    cv3240: tuple[str, ...] = ()
    tt02: tuple[str, ...] = ()

    def items(self) -> list[tuple[str, tuple[str, ...]]]:
        return [("cv3139", self.cv3139), ("cv3240", self.cv3240), ("tt02", self.tt02)]


@dataclass(frozen=True)
class Card:
    text: str
    image: str | None = None  # path relative to lessons/, shown above the text
    line: int = field(default=0, compare=False)  # line of `text:` in the lesson file


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    order: int


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    topic: str
    order: int
    core: bool  # part of the basic programme counted in reports
    minutes: int
    summary: str
    action: str  # the one thing the reader can do today
    framework: FrameworkTags
    unconfirmed: tuple[str, ...]  # facts still marked (check) that the lesson relies on
    reviewed: date
    review: Review
    sources: tuple[Source, ...]
    cards: tuple[Card, ...]
    path: str = ""
    # line of each top-level field, so that later checks can point into the file
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool = False
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # one of QUESTION_KINDS
    text: str
    options: tuple[Option, ...]
    explanation: str
    line: int = field(default=0, compare=False)  # line of `text:`
    explanation_line: int = field(default=0, compare=False)

    @property
    def correct_index(self) -> int:
        return next(i for i, option in enumerate(self.options) if option.correct)


@dataclass(frozen=True)
class Quiz:
    lesson_id: str
    pass_count: int  # correct answers needed; told to residents as "5/6"
    questions: tuple[Question, ...]
    path: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def passed(self, correct: int) -> bool:
        return correct >= self.pass_count


@dataclass(frozen=True)
class Curriculum:
    topics: dict[str, Topic]
    lessons: dict[str, Lesson]  # in catalogue order (topic order, then lesson order)
    quizzes: dict[str, Quiz]  # keyed by lesson id

    def ordered_topics(self) -> list[Topic]:
        return sorted(self.topics.values(), key=lambda t: (t.order, t.id))

    def lessons_in_topic(self, topic_id: str) -> list[Lesson]:
        return [lesson for lesson in self.lessons.values() if lesson.topic == topic_id]

    def core_lesson_ids(self) -> list[str]:
        return [lesson.id for lesson in self.lessons.values() if lesson.core]

    def next_lesson_after(self, lesson_id: str, done: set[str]) -> Lesson | None:
        """The first unfinished lesson after `lesson_id` in catalogue order, wrapping round."""
        ids = list(self.lessons)
        if lesson_id not in ids:
            return None
        start = ids.index(lesson_id)
        for candidate in ids[start + 1 :] + ids[:start]:
            if candidate not in done:
                return self.lessons[candidate]
        return None
