"""Read and check lessons and quizzes (see docs/content-format.md).

`check_content` lists every problem in a content root as `file:line: reason`;
`load_curriculum` returns the validated `Curriculum` or raises `ContentError`.

YAML is composed into a node tree (no objects are ever constructed from tags), so every
problem can point to the line of the offending key or value.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.content import messages as m
from bot.content import quality
from bot.content.frameworks import FRAMEWORKS
from bot.content.model import (
    MAX_ACTION_CHARS,
    MAX_CARD_CHARS,
    MAX_CARDS,
    MAX_EXPLANATION_CHARS,
    MAX_MINUTES,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_QUESTION_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    MIN_CARDS,
    MIN_MINUTES,
    MIN_OPTIONS,
    MIN_QUESTIONS,
    QUESTION_KINDS,
    SCHEMA_VERSION,
    Card,
    Curriculum,
    FrameworkTags,
    Lesson,
    Option,
    Problem,
    Question,
    Quiz,
    Review,
    Source,
    Topic,
)

LESSONS_DIR = "lessons"
QUIZZES_DIR = "quizzes"
TOPICS_FILE = "topics.yaml"

ID_PATTERN = re.compile(r"^[a-z0-9-]+$")
MAX_ID_CHARS = 24
# A source's date is as precise as the source itself: a day, a month or a year.
SOURCE_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")

_TAG = "tag:yaml.org,2002:"
# The YAML tags content may use -> the catalog key naming that kind of value.
_KIND_BY_TAG = {
    _TAG + "str": "text",
    _TAG + "int": "int",
    _TAG + "float": "float",
    _TAG + "bool": "bool",
    _TAG + "null": "null",
    _TAG + "timestamp": "timestamp",
    _TAG + "map": "map",
    _TAG + "seq": "seq",
}


class ContentError(Exception):
    """Content has problems; `.problems` lists them, str() prints one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = [str(problem) for problem in self.problems]
        super().__init__("\n".join(lines) if lines else m.t("no_problems_listed"))


def default_content_root() -> Path:
    """The repository root: the directory holding `lessons/` and `quizzes/`."""
    return Path(__file__).resolve().parents[2]


def check_content(
    root: Path, *, today: date | None = None, max_review_age_days: int | None = None
) -> list[Problem]:
    """Every problem in the content under `root`, sorted by path then line.

    With `today` and `max_review_age_days`, a lesson reviewed longer ago than that is
    reported too, as a warning (`Problem.warning`): stale facts need a look, not a refusal.
    """
    return _Checker(Path(root)).run(today, max_review_age_days).problems


def load_curriculum(root: Path) -> Curriculum:
    """The curriculum under `root`; raises `ContentError` if there is any problem."""
    result = _Checker(Path(root)).run()
    errors = [problem for problem in result.problems if not problem.warning]
    if errors or result.curriculum is None:
        raise ContentError(errors)
    return result.curriculum


# --------------------------------------------------------------------------- helpers


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    """What a value is, as a reason names it ("chữ", "danh sách", ...)."""
    key = _KIND_BY_TAG.get(node.tag)
    return m.t(f"kind.{key}") if key else m.t("kind.tagged", tag=node.tag)


def _nodes(node: Node) -> Iterator[Node]:
    """Every node under `node` (each once, so aliases cannot loop)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.extend((key, value))


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _normalised_option(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass
class _Result:
    problems: list[Problem]
    curriculum: Curriculum | None


@dataclass
class _Fields:
    """The entries of one YAML mapping: key -> (key node, value node)."""

    node: MappingNode
    entries: dict[str, tuple[ScalarNode, Node]] = field(default_factory=dict)

    def key_line(self, key: str) -> int:
        return _line(self.entries[key][0]) if key in self.entries else _line(self.node)

    def value(self, key: str) -> Node | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None


class _File:
    """Problems and typed reads for one YAML file."""

    def __init__(self, path: Path, rel: str, problems: list[Problem]) -> None:
        self.path = path
        self.rel = rel
        self._problems = problems
        self.count = 0  # problems reported for this file

    def problem(self, line: int, reason: str) -> None:
        self.count += 1
        self._problems.append(Problem(self.rel, line, reason))

    def compose(self) -> Node | None:
        """The document's root node, or None after reporting why there is none."""
        try:
            text = self.path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.path.read_bytes()[: exc.start].count(b"\n") + 1
            self.problem(line, m.t("file_not_utf8"))
            return None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            detail = m.yaml_problem(exc.problem or exc.context)
            self.problem(line, m.t("yaml_syntax", detail=detail))
            return None
        except yaml.reader.ReaderError as exc:
            line = text[: exc.position].count("\n") + 1
            code = f"#x{exc.character:04x}" if isinstance(exc.character, int) else exc.character
            self.problem(line, m.t("yaml_syntax", detail=m.t("yaml.bad_character", a=code)))
            return None
        except yaml.YAMLError:
            self.problem(1, m.t("yaml_syntax", detail=m.t("yaml.other")))
            return None
        if node is None:
            self.problem(1, m.t("file_empty"))
            return None
        for tagged in _nodes(node):
            if tagged.tag not in _KIND_BY_TAG:
                self.problem(_line(tagged), m.t("yaml_tag", tag=tagged.tag))
        return node

    # ----- structure

    def mapping(
        self,
        node: Node,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        prefix: str = "",
        what: str | None = None,
        line: int | None = None,
    ) -> _Fields | None:
        """Check that `node` is a mapping with exactly the allowed keys.

        A missing key is reported at `line` (the parent key of a nested mapping), or else
        where the mapping starts. `prefix` starts each reason ("nguồn 1: "); `what` names
        the mapping (the file itself when None).
        """
        if not isinstance(node, MappingNode):
            what = what or m.t("label.file")
            self.problem(_line(node), m.t("must_be_mapping", what=what, kind=_kind(node)))
            return None
        fields = _Fields(node)
        allowed = set(required) | set(optional)
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str) or key_node.tag != _TAG + "str":
                reason = m.t("field_unknown", prefix=prefix, name=repr(key), hint="")
                self.problem(_line(key_node), reason)
                continue
            if key in fields.entries:
                first = fields.key_line(key)
                reason = m.t("field_duplicate", prefix=prefix, name=key, first=first)
                self.problem(_line(key_node), reason)
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = m.t("field_hint", close=close[0]) if close else ""
                reason = m.t("field_unknown", prefix=prefix, name=f"'{key}'", hint=hint)
                self.problem(_line(key_node), reason)
                continue
            fields.entries[key] = (key_node, value_node)
        for key in required:
            if key not in fields.entries:
                self.problem(line or _line(node), m.t("field_missing", prefix=prefix, name=key))
        return fields

    def sequence(self, fields: _Fields, key: str, label: str) -> list[Node] | None:
        node = fields.value(key)
        if node is None:
            return None
        if not isinstance(node, SequenceNode):
            reason = m.t("must_be_list", label=label, kind=_kind(node))
            self.problem(fields.key_line(key), reason)
            return None
        return list(node.value)

    def _scalar(self, fields: _Fields, key: str, label: str, tag: str) -> ScalarNode | None:
        node = fields.value(key)
        if node is None:
            return None
        if isinstance(node, ScalarNode) and node.tag == tag:
            return node
        if node.tag not in _KIND_BY_TAG:
            return None  # reported once by _File.compose
        quote = tag == _TAG + "str" and isinstance(node, ScalarNode)
        hint = m.t("quote_hint") if quote else ""
        expected = m.t(f"kind.{_KIND_BY_TAG[tag]}")
        reason = m.t("must_be_kind", label=label, expected=expected, kind=_kind(node), hint=hint)
        self.problem(fields.key_line(key), reason)
        return None

    # ----- typed values

    def text(
        self, fields: _Fields, key: str, label: str, max_chars: int | None = None
    ) -> str | None:
        """A non-empty string of at most `max_chars` characters (after NFC + strip)."""
        node = fields.value(key)
        if node is None:
            return None
        line = fields.key_line(key)
        if isinstance(node, ScalarNode) and node.tag == _TAG + "null":
            self.problem(line, m.t("empty", label=label))
            return None
        scalar = self._scalar(fields, key, label, _TAG + "str")
        if scalar is None:
            return None
        value = _clean(scalar.value)
        if not value:
            self.problem(line, m.t("empty", label=label))
            return None
        if max_chars is not None and len(value) > max_chars:
            self.problem(line, m.t("too_long", label=label, count=len(value), most=max_chars))
        return value

    def identifier(self, fields: _Fields, key: str, label: str) -> str | None:
        value = self.text(fields, key, label)
        if value is None:
            return None
        line = fields.key_line(key)
        if not ID_PATTERN.match(value):
            self.problem(line, m.t("id_chars", label=label, value=value))
        elif len(value) > MAX_ID_CHARS:
            count = len(value)
            reason = m.t("id_too_long", label=label, value=value, count=count, most=MAX_ID_CHARS)
            self.problem(line, reason)
        return value

    def integer(
        self,
        fields: _Fields,
        key: str,
        label: str,
        low: int | None = None,
        high: int | None = None,
    ) -> int | None:
        scalar = self._scalar(fields, key, label, _TAG + "int")
        if scalar is None:
            return None
        try:
            value = int(yaml.constructor.SafeConstructor().construct_yaml_int(scalar))
        except (ValueError, yaml.YAMLError):
            self.problem(fields.key_line(key), m.t("not_whole_number", label=label))
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            key_ = "out_of_range" if high is not None else "below_minimum"
            reason = m.t(key_, label=label, value=value, low=low, high=high)
            self.problem(fields.key_line(key), reason)
            return None
        return value

    def boolean(self, fields: _Fields, key: str, label: str) -> bool | None:
        scalar = self._scalar(fields, key, label, _TAG + "bool")
        if scalar is None:
            return None
        return bool(yaml.constructor.SafeConstructor().construct_yaml_bool(scalar))

    def day(self, fields: _Fields, key: str, label: str) -> date | None:
        node = fields.value(key)
        if node is None:
            return None
        line = fields.key_line(key)
        value: object = None
        if isinstance(node, ScalarNode) and node.tag == _TAG + "timestamp":
            try:
                value = yaml.constructor.SafeConstructor().construct_yaml_timestamp(node)
            except (ValueError, yaml.YAMLError):
                value = None
        elif isinstance(node, ScalarNode) and node.tag == _TAG + "str":
            try:
                value = date.fromisoformat(node.value.strip())
            except ValueError:
                value = None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.problem(line, m.t("day_format", label=label))
        return None

    def older_schema(self, root: Node) -> bool:
        """True (after one clear problem) for a file written for an older schema.

        Checked before the fields, so that an old file is not also reported field by field.
        """
        if not isinstance(root, MappingNode):
            return False
        for key, value in root.value:
            if isinstance(key, ScalarNode) and key.value == "schema_version":
                if isinstance(value, ScalarNode) and value.tag == _TAG + "int":
                    try:
                        version = int(yaml.constructor.SafeConstructor().construct_yaml_int(value))
                    except ValueError:
                        return False
                    if 0 < version < SCHEMA_VERSION:
                        reason = m.t("schema_old", version=version, current=SCHEMA_VERSION)
                        self.problem(_line(key), reason)
                        return True
                return False
        return False

    def schema_version(self, fields: _Fields) -> bool:
        """True if the file declares the schema version this build reads."""
        if "schema_version" not in fields.entries:
            return False  # reported as a missing field
        node = fields.value("schema_version")
        line = fields.key_line("schema_version")
        if isinstance(node, ScalarNode) and node.tag == _TAG + "int":
            try:
                version = int(yaml.constructor.SafeConstructor().construct_yaml_int(node))
            except ValueError:
                version = None
            if version == SCHEMA_VERSION:
                return True
            shown = version if version is not None else node.value
        else:
            shown = node.value if isinstance(node, ScalarNode) else _kind(node)
        self.problem(line, m.t("schema_unknown", shown=shown, current=SCHEMA_VERSION))
        return False

    def texts(self, fields: _Fields, key: str, label: str, max_chars: int) -> list[str] | None:
        """A list of non-empty strings (may be empty)."""
        items = self.sequence(fields, key, label)
        if items is None:
            return None
        values: list[str] = []
        for number, item in enumerate(items, start=1):
            named = m.item(label, number)
            if not isinstance(item, ScalarNode) or item.tag != _TAG + "str":
                text, kind = m.t("kind.text"), _kind(item)
                reason = m.t("must_be_kind", label=named, expected=text, kind=kind, hint="")
                self.problem(_line(item), reason)
                continue
            value = _clean(item.value)
            if not value:
                self.problem(_line(item), m.t("empty", label=named))
            elif len(value) > max_chars:
                reason = m.t("too_long", label=named, count=len(value), most=max_chars)
                self.problem(_line(item), reason)
            else:
                values.append(value)
        return values

    def source_date(self, fields: _Fields, label: str) -> str | None:
        """YYYY-MM-DD, YYYY-MM or YYYY; unquoted dates and years are read as YAML does."""
        node = fields.value("date")
        if node is None:
            return None
        line = fields.key_line("date")
        if isinstance(node, ScalarNode):
            raw = node.value.strip()
            if node.tag in (_TAG + "str", _TAG + "int") and SOURCE_DATE.match(raw):
                if len(raw) < 10:
                    return raw
                try:
                    return date.fromisoformat(raw).isoformat()
                except ValueError:
                    pass
            elif node.tag == _TAG + "timestamp":
                try:
                    return date.fromisoformat(raw).isoformat()
                except ValueError:
                    pass
        self.problem(line, m.t("source_date_format", label=label))
        return None


# --------------------------------------------------------------------------- checker

_TOPIC_FIELDS = ("id", "title", "order")
_LESSON_FIELDS = (
    "schema_version",
    "id",
    "title",
    "topic",
    "order",
    "core",
    "minutes",
    "summary",
    "action",
    "framework",
    "unconfirmed",
    "reviewed",
    "review",
    "sources",
    "cards",
)
_QUIZ_FIELDS = ("schema_version", "lesson", "pass_count", "questions")
_QUESTION_FIELDS = ("id", "kind", "text", "options", "explanation")
_SOURCE_FIELDS = ("title", "publisher", "date")
_SOURCE_LOCATORS = ("url", "document")
MAX_UNCONFIRMED_CHARS = 300  # "one short line each"


@dataclass
class _LessonEntry:
    id: str  # the declared id, or the file stem when the id could not be read
    rel: str
    id_line: int
    topic: str | None = None
    topic_line: int = 1
    lesson: Lesson | None = None


@dataclass
class _QuizEntry:
    lesson_id: str  # the named lesson, or the file stem when it could not be read
    rel: str
    lesson_line: int
    quiz: Quiz | None = None


class _Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.topics: dict[str, Topic] = {}
        self.topic_ids: set[str] | None = None  # None: topics.yaml could not be read
        self.lessons: list[_LessonEntry] = []
        self.quizzes: list[_QuizEntry] = []

    def run(self, today: date | None = None, max_review_age_days: int | None = None) -> _Result:
        lessons_dir = self.root / LESSONS_DIR
        quizzes_dir = self.root / QUIZZES_DIR
        for directory in (lessons_dir, quizzes_dir):
            if not directory.is_dir():
                self.problems.append(Problem(directory.name + "/", 1, m.t("directory_missing")))
        if lessons_dir.is_dir():
            self._check_topics(lessons_dir / TOPICS_FILE)
            for path in self._yaml_files(lessons_dir):
                if path.name != TOPICS_FILE:
                    self._check_lesson(path)
        if quizzes_dir.is_dir():
            for path in self._yaml_files(quizzes_dir):
                self._check_quiz(path)
        self._check_references()
        lessons = [entry.lesson for entry in self.lessons if entry.lesson is not None]
        quizzes = [entry.quiz for entry in self.quizzes if entry.quiz is not None]
        self.problems.extend(quality.check(lessons, quizzes, today, max_review_age_days))
        self.problems.sort(key=lambda p: (p.path, p.line, p.reason))
        failed = any(not problem.warning for problem in self.problems)
        return _Result(self.problems, None if failed else self._curriculum())

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _yaml_files(self, directory: Path) -> Iterator[Path]:
        for path in sorted(directory.iterdir()):
            if not path.is_file():
                continue
            if path.suffix == ".yml":
                self.problems.append(Problem(self._rel(path), 1, m.t("file_yml")))
            elif path.suffix == ".yaml":
                yield path

    # ----- topics.yaml

    def _check_topics(self, path: Path) -> None:
        rel = self._rel(path)
        if not path.is_file():
            self.problems.append(Problem(rel, 1, m.t("file_missing")))
            return
        f = _File(path, rel, self.problems)
        root = f.compose()
        if root is None or f.older_schema(root):
            return
        fields = f.mapping(root, ("schema_version", "topics"))
        if fields is None or not f.schema_version(fields):
            return
        items = f.sequence(fields, "topics", m.field("topics"))
        if items is None:
            return
        if not items:
            f.problem(fields.key_line("topics"), m.t("topics_empty"))
        first_line: dict[str, int] = {}
        for number, item in enumerate(items, start=1):
            label = m.topic(number)
            entry = f.mapping(item, _TOPIC_FIELDS, prefix=f"{label}: ", what=label)
            if entry is None:
                continue
            topic_id = f.identifier(entry, "id", m.part(label, m.field("id")))
            title = f.text(entry, "title", m.part(label, m.field("title")), MAX_TITLE_CHARS)
            order = f.integer(entry, "order", m.part(label, m.field("order")))
            if topic_id is None:
                continue
            if topic_id in first_line:
                first = first_line[topic_id]
                f.problem(entry.key_line("id"), m.t("topic_duplicate", id=topic_id, first=first))
                continue
            first_line[topic_id] = entry.key_line("id")
            if title is not None and order is not None:
                self.topics[topic_id] = Topic(topic_id, title, order)
        # Lessons' topics are checked only once the list itself could be read, so that a
        # broken topics file is not reported again in every lesson.
        self.topic_ids = set(first_line)

    # ----- lessons/<id>.yaml

    def _check_lesson(self, path: Path) -> None:
        rel = self._rel(path)
        f = _File(path, rel, self.problems)
        entry = _LessonEntry(id=path.stem, rel=rel, id_line=1)
        self.lessons.append(entry)
        root = f.compose()
        if root is None or f.older_schema(root):
            return
        fields = f.mapping(root, _LESSON_FIELDS)
        if fields is None or not f.schema_version(fields):
            return

        lesson_id = f.identifier(fields, "id", m.field("id"))
        entry.id_line = fields.key_line("id")
        if lesson_id is not None:
            entry.id = lesson_id
            if lesson_id != path.stem:
                f.problem(entry.id_line, m.t("id_mismatch", id=lesson_id, file=path.name))
        title = f.text(fields, "title", m.field("title"), MAX_TITLE_CHARS)
        topic = f.identifier(fields, "topic", m.field("topic"))
        entry.topic, entry.topic_line = topic, fields.key_line("topic")
        order = f.integer(fields, "order", m.field("order"))
        core = f.boolean(fields, "core", m.field("core"))
        minutes = f.integer(fields, "minutes", m.field("minutes"), MIN_MINUTES, MAX_MINUTES)
        summary = f.text(fields, "summary", m.field("summary"), MAX_SUMMARY_CHARS)
        action = f.text(fields, "action", m.field("action"), MAX_ACTION_CHARS)
        framework = self._framework(f, fields)
        unconfirmed = f.texts(fields, "unconfirmed", m.field("unconfirmed"), MAX_UNCONFIRMED_CHARS)
        reviewed = f.day(fields, "reviewed", m.field("reviewed"))
        review = self._review(f, fields)
        sources = self._sources(f, fields)
        cards = self._cards(f, fields, path.parent)

        if f.count:
            return
        assert lesson_id is not None and title is not None and topic is not None
        assert order is not None and core is not None and minutes is not None
        assert summary is not None and action is not None and framework is not None
        assert unconfirmed is not None and reviewed is not None and review is not None
        assert sources is not None and cards is not None
        entry.lesson = Lesson(
            id=lesson_id,
            title=title,
            topic=topic,
            order=order,
            core=core,
            minutes=minutes,
            summary=summary,
            action=action,
            framework=framework,
            unconfirmed=tuple(unconfirmed),
            reviewed=reviewed,
            review=review,
            sources=sources,
            cards=cards,
            path=rel,
            lines={key: fields.key_line(key) for key in fields.entries},
        )

    def _framework(self, f: _File, fields: _Fields) -> FrameworkTags | None:
        node = fields.value("framework")
        if node is None:
            return None
        required = tuple(fw.key for fw in FRAMEWORKS if fw.required)
        optional = tuple(fw.key for fw in FRAMEWORKS if not fw.required)
        inner = f.mapping(
            node,
            required,
            optional,
            prefix=m.inside("framework") + ": ",
            what=m.field("framework"),
            line=fields.key_line("framework"),
        )
        if inner is None:
            return None
        tags: dict[str, tuple[str, ...]] = {}
        complete = True
        for fw in FRAMEWORKS:
            label = m.nested("framework", fw.key)
            items = f.sequence(inner, fw.key, label)
            if items is None:
                complete = complete and not fw.required
                continue
            if not items and fw.required:
                f.problem(inner.key_line(fw.key), m.t("framework_empty", label=label))
                complete = False
            values: list[str] = []
            for item in items:
                # Tags like 0.1 are read by YAML as numbers; the value as written is the tag.
                value = _clean(item.value) if isinstance(item, ScalarNode) else None
                if value is None or value not in fw.wording:
                    known = ", ".join(fw.wording)
                    shown = value if value is not None else _kind(item)
                    what = m.t(f"framework_what.{fw.what}")
                    reason = m.t(
                        "framework_unknown", short=fw.short, value=shown, what=what, known=known
                    )
                    f.problem(_line(item), reason)
                    complete = False
                elif value in values:
                    f.problem(_line(item), m.t("framework_repeat", label=label, value=value))
                    complete = False
                else:
                    values.append(value)
            tags[fw.key] = tuple(values)
        return FrameworkTags(**tags) if complete else None

    def _review(self, f: _File, fields: _Fields) -> Review | None:
        node = fields.value("review")
        if node is None:
            return None
        inner = f.mapping(
            node,
            ("facts", "readability"),
            prefix=m.inside("review") + ": ",
            what=m.field("review"),
            line=fields.key_line("review"),
        )
        if inner is None:
            return None
        # Notes for the team, never shown to residents: as long as the reviewers need.
        facts = f.text(inner, "facts", m.nested("review", "facts"))
        readability = f.text(inner, "readability", m.nested("review", "readability"))
        if facts is None or readability is None:
            return None
        return Review(facts, readability)

    def _sources(self, f: _File, fields: _Fields) -> tuple[Source, ...] | None:
        items = f.sequence(fields, "sources", m.field("sources"))
        if items is None:
            return None
        if not items:
            f.problem(fields.key_line("sources"), m.t("sources_empty"))
            return None
        sources: list[Source] = []
        for number, item in enumerate(items, start=1):
            label = m.source(number)
            before = f.count
            entry = f.mapping(
                item, _SOURCE_FIELDS, _SOURCE_LOCATORS, prefix=f"{label}: ", what=label
            )
            if entry is None:
                continue
            title = f.text(entry, "title", m.part(label, m.field("title")))
            publisher = f.text(entry, "publisher", m.part(label, m.field("publisher")))
            when = f.source_date(entry, m.part(label, m.field("date")))
            url = document = None
            if "url" in entry.entries:
                url_label = m.part(label, m.field("url"))
                url = f.text(entry, "url", url_label)
                if url is not None and not url.startswith("https://"):
                    f.problem(entry.key_line("url"), m.t("url_https", label=url_label))
            if "document" in entry.entries:
                document = f.text(entry, "document", m.part(label, m.field("document")))
            if not any(key in entry.entries for key in _SOURCE_LOCATORS):
                f.problem(_line(entry.node), m.t("source_unfindable", label=label))
            if f.count == before:
                assert title is not None and publisher is not None and when is not None
                sources.append(Source(title, publisher, when, url, document, _line(entry.node)))
        return tuple(sources)

    def _cards(self, f: _File, fields: _Fields, lessons_dir: Path) -> tuple[Card, ...] | None:
        items = f.sequence(fields, "cards", m.field("cards"))
        if items is None:
            return None
        line = fields.key_line("cards")
        if len(items) < MIN_CARDS:
            f.problem(line, m.t("cards_too_few", count=len(items), least=MIN_CARDS))
        elif len(items) > MAX_CARDS:
            f.problem(line, m.t("cards_too_many", count=len(items), most=MAX_CARDS))
        cards: list[Card] = []
        for number, item in enumerate(items, start=1):
            label = m.card(number)
            entry = f.mapping(item, ("text",), ("image",), prefix=f"{label}: ", what=label)
            if entry is None:
                continue
            text = f.text(entry, "text", label, MAX_CARD_CHARS)
            image = None
            if "image" in entry.entries:
                image = f.text(entry, "image", m.part(label, m.field("image")))
                if image is not None and not self._image_ok(f, entry, number, image, lessons_dir):
                    image = None
            if text is not None:
                cards.append(Card(text, image, entry.key_line("text")))
        return tuple(cards)

    def _image_ok(
        self, f: _File, entry: _Fields, number: int, image: str, lessons_dir: Path
    ) -> bool:
        line = entry.key_line("image")
        base = lessons_dir.resolve()
        target = (lessons_dir / image).resolve()
        if Path(image).is_absolute() or not target.is_relative_to(base):
            f.problem(line, m.t("image_outside", label=m.card(number), image=image))
            return False
        if not target.is_file():
            f.problem(line, m.t("image_missing", label=m.card(number), image=image))
            return False
        return True

    # ----- quizzes/<lesson-id>.yaml

    def _check_quiz(self, path: Path) -> None:
        rel = self._rel(path)
        f = _File(path, rel, self.problems)
        entry = _QuizEntry(lesson_id=path.stem, rel=rel, lesson_line=1)
        self.quizzes.append(entry)
        root = f.compose()
        if root is None or f.older_schema(root):
            return
        fields = f.mapping(root, _QUIZ_FIELDS)
        if fields is None or not f.schema_version(fields):
            return

        lesson_id = f.identifier(fields, "lesson", m.field("lesson"))
        entry.lesson_line = fields.key_line("lesson")
        if lesson_id is not None:
            entry.lesson_id = lesson_id
            if lesson_id != path.stem:
                reason = m.t("id_mismatch", id=lesson_id, file=path.name)
                f.problem(entry.lesson_line, reason)
        questions = self._questions(f, fields)
        # bounded by the questions written, even when some of them have problems
        listed = fields.value("questions")
        total = len(listed.value) if isinstance(listed, SequenceNode) and listed.value else None
        pass_count = f.integer(fields, "pass_count", m.field("pass_count"), 1, total)
        if f.count:
            return
        assert lesson_id is not None and pass_count is not None and questions is not None
        lines = {key: fields.key_line(key) for key in fields.entries}
        entry.quiz = Quiz(lesson_id, pass_count, questions, path=rel, lines=lines)

    def _questions(self, f: _File, fields: _Fields) -> tuple[Question, ...] | None:
        items = f.sequence(fields, "questions", m.field("questions"))
        if items is None:
            return None
        if len(items) < MIN_QUESTIONS:
            reason = m.t("questions_too_few", count=len(items), least=MIN_QUESTIONS)
            f.problem(fields.key_line("questions"), reason)
        questions: list[Question] = []
        seen: dict[str, int] = {}
        for number, item in enumerate(items, start=1):
            label = m.question(number)
            entry = f.mapping(item, _QUESTION_FIELDS, prefix=f"{label}: ", what=label)
            if entry is None:
                continue
            question_id = f.identifier(entry, "id", m.part(label, m.field("id")))
            name = m.question(question_id or number)
            if question_id is not None:
                if question_id in seen:
                    reason = m.t("question_duplicate", id=question_id, first=seen[question_id])
                    f.problem(entry.key_line("id"), reason)
                else:
                    seen[question_id] = entry.key_line("id")
            kind_label = m.part(name, m.field("kind"))
            kind = f.text(entry, "kind", kind_label)
            if kind is not None and kind not in QUESTION_KINDS:
                kinds = ", ".join(QUESTION_KINDS)
                reason = m.t("question_kind", label=kind_label, kind=kind, kinds=kinds)
                f.problem(entry.key_line("kind"), reason)
                kind = None
            text = f.text(entry, "text", m.part(name, m.field("text")), MAX_QUESTION_CHARS)
            options = self._options(f, entry, name)
            explanation = f.text(
                entry, "explanation", m.part(name, m.field("explanation")), MAX_EXPLANATION_CHARS
            )
            if question_id and kind and text and options is not None and explanation:
                questions.append(
                    Question(
                        question_id,
                        kind,
                        text,
                        options,
                        explanation,
                        line=entry.key_line("text"),
                        explanation_line=entry.key_line("explanation"),
                    )
                )
        return tuple(questions)

    def _options(self, f: _File, entry: _Fields, name: str) -> tuple[Option, ...] | None:
        items = f.sequence(entry, "options", m.part(name, m.field("options")))
        if items is None:
            return None
        line = entry.key_line("options")
        if len(items) < MIN_OPTIONS:
            f.problem(line, m.t("options_too_few", label=name, count=len(items), least=MIN_OPTIONS))
        elif len(items) > MAX_OPTIONS:
            f.problem(line, m.t("options_too_many", label=name, count=len(items), most=MAX_OPTIONS))
        options: list[Option] = []
        seen: dict[str, int] = {}
        complete = True
        for number, item in enumerate(items, start=1):
            label = m.option(name, number)
            option = f.mapping(item, ("text",), ("correct",), prefix=f"{label}: ", what=label)
            if option is None:
                complete = False
                continue
            text = f.text(option, "text", label, MAX_OPTION_CHARS)
            correct = False
            if "correct" in option.entries:
                value = f.boolean(option, "correct", m.part(label, m.field("correct")))
                if value is None:
                    complete = False
                correct = bool(value)
            if text is None:
                complete = False
                continue
            key = _normalised_option(text)
            if key in seen:
                reason = m.t("option_repeat", label=label, first=seen[key])
                f.problem(option.key_line("text"), reason)
            else:
                seen[key] = number
            options.append(Option(text, correct, option.key_line("text")))
        if complete:
            correct_count = sum(option.correct for option in options)
            if correct_count == 0:
                f.problem(line, m.t("correct_none", label=name))
            elif correct_count > 1:
                f.problem(line, m.t("correct_many", label=name, count=correct_count))
        return tuple(options)

    # ----- cross-file references

    def _check_references(self) -> None:
        lesson_ids: dict[str, _LessonEntry] = {}
        # A file whose name matches its id keeps the id; the other copy is the duplicate.
        by_name_first = sorted(self.lessons, key=lambda e: (Path(e.rel).stem != e.id, e.rel))
        for entry in by_name_first:
            first = lesson_ids.get(entry.id)
            if first is not None:
                reason = m.t("lesson_duplicate", id=entry.id, other=first.rel)
                self.problems.append(Problem(entry.rel, entry.id_line, reason))
                continue
            lesson_ids[entry.id] = entry
            topics = self.topic_ids
            if topics is not None and entry.topic is not None and entry.topic not in topics:
                reason = m.t("topic_unknown", topic=entry.topic, file=TOPICS_FILE)
                self.problems.append(Problem(entry.rel, entry.topic_line, reason))

        quiz_for: dict[str, _QuizEntry] = {}
        by_name_first = sorted(self.quizzes, key=lambda e: (Path(e.rel).stem != e.lesson_id, e.rel))
        for entry in by_name_first:
            if entry.lesson_id not in lesson_ids:
                reason = m.t("quiz_without_lesson", id=entry.lesson_id)
                self.problems.append(Problem(entry.rel, entry.lesson_line, reason))
                continue
            first = quiz_for.get(entry.lesson_id)
            if first is not None:
                reason = m.t("quiz_duplicate", id=entry.lesson_id, other=first.rel)
                self.problems.append(Problem(entry.rel, entry.lesson_line, reason))
                continue
            quiz_for[entry.lesson_id] = entry

        for lesson_id, entry in lesson_ids.items():
            if lesson_id not in quiz_for:
                reason = m.t("lesson_without_quiz", id=lesson_id, folder=QUIZZES_DIR)
                self.problems.append(Problem(entry.rel, entry.id_line, reason))

    # ----- assembly

    def _curriculum(self) -> Curriculum | None:
        topics = dict(sorted(self.topics.items(), key=lambda kv: (kv[1].order, kv[0])))
        lessons = [entry.lesson for entry in self.lessons if entry.lesson is not None]
        quizzes = [entry.quiz for entry in self.quizzes if entry.quiz is not None]
        if len(lessons) != len(self.lessons) or len(quizzes) != len(self.quizzes):
            return None
        lessons.sort(
            key=lambda lesson: (topics[lesson.topic].order, lesson.topic, lesson.order, lesson.id)
        )
        return Curriculum(
            topics=topics,
            lessons={lesson.id: lesson for lesson in lessons},
            quizzes={quiz.lesson_id: quiz for quiz in quizzes},
        )
