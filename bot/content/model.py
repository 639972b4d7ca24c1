"""The curriculum as the engine sees it: immutable, already validated.

Files under `lessons/` and `quizzes/` are parsed and checked by `bot.content.loader`;
only a curriculum with no problems is ever handed to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SCHEMA_VERSION = 1

# Limits a card or question must respect so that it reads on a small phone screen and
# fits in one Zalo message (2,000 characters) with room for the numbered choices.
MAX_CARD_CHARS = 600
MIN_CARDS, MAX_CARDS = 2, 6
MAX_QUESTION_CHARS = 300
MAX_OPTION_CHARS = 80
MAX_EXPLANATION_CHARS = 400
MIN_OPTIONS, MAX_OPTIONS = 2, 4
MIN_QUESTIONS = 5
MAX_TITLE_CHARS = 60
MAX_SUMMARY_CHARS = 140

# Thông tư 02/2025/TT-BGDĐT: the six domains of the learners' digital competence framework.
TT02_DOMAINS = {
    "khai_thac_du_lieu": "Khai thác dữ liệu và thông tin",
    "giao_tiep_hop_tac": "Giao tiếp và hợp tác",
    "sang_tao_noi_dung": "Sáng tạo nội dung số",
    "an_toan": "An toàn",
    "giai_quyet_van_de": "Giải quyết vấn đề",
    "ung_dung_ai": "Ứng dụng trí tuệ nhân tạo",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a content file, printed as `file:line: reason`."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Card:
    text: str
    image: str | None = None  # path relative to lessons/, shown above the text


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
    qd757_area: str  # area of QĐ 757/QĐ-BKHCN "Khung kiến thức, kỹ năng số cơ bản"
    tt02_domain: str  # key of TT02_DOMAINS
    reviewed: date
    sources: tuple[Source, ...]
    cards: tuple[Card, ...]
    path: str = ""


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[Option, ...]
    explanation: str

    @property
    def correct_index(self) -> int:
        return next(i for i, option in enumerate(self.options) if option.correct)


@dataclass(frozen=True)
class Quiz:
    lesson_id: str
    pass_percent: int
    questions: tuple[Question, ...]
    path: str = ""

    def passed(self, correct: int) -> bool:
        return correct * 100 >= self.pass_percent * len(self.questions)


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
