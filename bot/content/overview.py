"""`lessons/README.md`: the programme and every lesson at a glance, generated from the content.

Generated, never edited by hand: a test regenerates it and fails when the file on disk
differs, so the overview a commune reads always matches the lessons residents get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.content import quality
from bot.content.frameworks import CV3139, CV3240, FRAMEWORK_BY_KEY, PROGRAMME
from bot.content.loader import LESSONS_DIR
from bot.content.model import Curriculum, Lesson

OVERVIEW_FILE = "README.md"
# The basic programme (issue 12): the device minimum (CV 3139 group 0), CV 3240's five
# basic skills, and VNeID (the lessons of this topic).
DEVICE_GROUP = "0."
VNEID_TOPIC = "dinh-danh"

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,  # Markdown, not HTML
)
# A table cell stays on one line and never closes the cell early.
_env.filters["cell"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")


@dataclass(frozen=True)
class ProgrammePart:
    name: str  # as the frameworks word it
    reference: str  # which document
    core: list[Lesson]
    optional: list[Lesson]


def overview_path(root: Path) -> Path:
    return Path(root) / LESSONS_DIR / OVERVIEW_FILE


def programme_parts(curriculum: Curriculum) -> list[ProgrammePart]:
    """Each part of the basic programme with the lessons (core or not) that teach it."""
    lessons = list(curriculum.lessons.values())

    def part(name: str, reference: str, covers: Callable[[Lesson], bool]) -> ProgrammePart:
        chosen = [lesson for lesson in lessons if covers(lesson)]
        return ProgrammePart(
            name,
            reference,
            [lesson for lesson in chosen if lesson.core],
            [lesson for lesson in chosen if not lesson.core],
        )

    device = "; ".join(f"{key} {CV3139[key]}" for key in CV3139 if key.startswith(DEVICE_GROUP))
    parts = [
        part(
            device,
            FRAMEWORK_BY_KEY["cv3139"].short,
            lambda lesson: any(tag.startswith(DEVICE_GROUP) for tag in lesson.framework.cv3139),
        )
    ]
    for key, wording in CV3240.items():
        parts.append(
            part(
                wording,
                FRAMEWORK_BY_KEY["cv3240"].short,
                lambda lesson, k=key: k in lesson.framework.cv3240,
            )
        )
    # VNeID is added to the frameworks' list by the programme itself (issue 12).
    parts.append(
        part("Định danh điện tử VNeID", "Bổ sung", lambda lesson: lesson.topic == VNEID_TOPIC)
    )
    return parts


def render_overview(curriculum: Curriculum) -> str:
    """The Markdown text of `lessons/README.md` (deterministic: no dates of generation)."""
    lessons = list(curriculum.lessons.values())
    questions = [q for quiz in curriculum.quizzes.values() for q in quiz.questions]
    rows = []
    for number, lesson in enumerate(lessons, start=1):
        tags = [
            FRAMEWORK_BY_KEY[key].label(tag)
            for key, values in lesson.framework.items()
            for tag in values
        ]
        quiz = curriculum.quizzes[lesson.id]
        rows.append(
            {
                "number": number,
                "lesson": lesson,
                "topic": curriculum.topics[lesson.topic].title,
                "tags": tags,
                "questions": len(quiz.questions),
                "pass_count": quiz.pass_count,
                "reviewed": lesson.reviewed.strftime("%d/%m/%Y"),
            }
        )
    situations = sum(1 for q in questions if q.kind == "situation")
    longest = sum(1 for q in questions if quality.longest_is_correct(q))
    return _env.get_template("overview.md.j2").render(
        programme=PROGRAMME,
        parts=programme_parts(curriculum),
        core=[lesson for lesson in lessons if lesson.core],
        rows=rows,
        lesson_count=len(lessons),
        question_count=len(questions),
        situation_pct=_percent(situations, len(questions)),
        longest_pct=_percent(longest, len(questions)),
        titles=_titles,
        unconfirmed=[lesson for lesson in lessons if lesson.unconfirmed],
    )


def write_overview(root: Path, curriculum: Curriculum) -> Path:
    path = overview_path(root)
    path.write_text(render_overview(curriculum), encoding="utf-8")
    return path


def _titles(lessons: list[Lesson]) -> str:
    return "; ".join(lesson.title.replace("|", "\\|") for lesson in lessons)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0
