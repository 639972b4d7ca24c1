"""Content revisions: a short stable hash of what a resident sees of a lesson or a quiz.

A screen in the middle of a lesson or quiz records the revision it was built on; when
the content is edited (cards rewritten, a question removed, options reordered) the
revision changes and the screen is rebuilt from the start instead of pointing into
content that is no longer there. Only what the resident reads counts: a new `reviewed`
date, sources or a pass mark do not invalidate anybody's place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from bot.content.model import Lesson, Quiz

LENGTH = 12  # hex characters: collisions between two edits of one lesson are negligible


def _digest(data: object) -> str:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:LENGTH]


# By object identity, not by value: a lesson's fields need not be hashable, and the
# same loaded object is asked on every step. Holding the object keeps its id unique.
_cache: dict[int, tuple[object, str]] = {}


def _cached(obj: object, compute: Callable[[], str]) -> str:
    hit = _cache.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    if len(_cache) > 4096:  # many reloads in a long-running process
        _cache.clear()
    value = compute()
    _cache[id(obj)] = (obj, value)
    return value


def lesson_revision(lesson: Lesson) -> str:
    """The revision of a lesson's cards (text and image, in order)."""
    return _cached(lesson, lambda: _digest([[card.text, card.image] for card in lesson.cards]))


def quiz_revision(quiz: Quiz) -> str:
    """The revision of a quiz's questions and their options (text, which is right)."""
    return _cached(
        quiz,
        lambda: _digest(
            [[q.id, q.text, [[o.text, o.correct] for o in q.options]] for q in quiz.questions]
        ),
    )
