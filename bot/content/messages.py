"""The content checker's words, from `bot/i18n/vi/content.yaml` (read alone: quick to load).

Reasons name the part of a file they are about with labels built from catalog parts
("câu hỏi q3, lựa chọn 2", "nguồn 1, trường 'title'"); field names stay as editors type them.
PyYAML's own syntax errors are put in Vietnamese here too, for the few it commonly raises.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from bot.core.texts import I18N_DIR, Texts


@lru_cache(maxsize=1)
def _catalog() -> Texts:
    with (I18N_DIR / "vi" / "content.yaml").open(encoding="utf-8") as handle:
        return Texts(yaml.safe_load(handle))


def t(key: str, /, **values: Any) -> str:
    """`t("empty", label=...)`: the text `content.<key>` with its values filled in."""
    return _catalog()(f"content.{key}", **values)


# ----- labels


def field(key: str) -> str:
    """A top-level field: "trường 'title'"."""
    return t("label.field", name=key)


def nested(parent: str, key: str) -> str:
    """A field inside another: "trường 'facts' trong 'review'"."""
    return t("label.nested", parent=parent, name=key)


def inside(key: str) -> str:
    """The prefix word for problems inside a field's mapping: "trong 'review'"."""
    return t("label.inside", name=key)


def part(whole: str, piece: str) -> str:
    """ "nguồn 1, trường 'title'"."""
    return t("label.part", whole=whole, part=piece)


def item(whole: str, number: int) -> str:
    return t("label.item", whole=whole, number=number)


def topic(number: int) -> str:
    return t("label.topic", number=number)


def source(number: int) -> str:
    return t("label.source", number=number)


def card(number: int) -> str:
    return t("label.card", number=number)


def question(name: int | str) -> str:
    return t("label.question", name=name)


def option(question_label: str, number: int) -> str:
    return t("label.option", question=question_label, number=number)


# ----- PyYAML's errors

# (pattern on PyYAML's `problem`, catalog key under `content.yaml`); a group becomes {a}.
_YAML_PROBLEMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern), key)
    for pattern, key in [
        (r"^mapping values are not allowed here$", "mapping_values"),
        (r"^could not find expected ':'$", "no_colon"),
        (r"^sequence entries are not allowed here$", "sequence_entries"),
        (r"^mapping keys are not allowed here$", "mapping_keys"),
        (r"^found character (.+) that cannot start any token$", "bad_start"),
        (r"^expected <block end>, but found .*$", "indentation"),
        (r"^invalid indentation or unclosed .*$", "unclosed"),
        (r"^found unexpected end of stream$", "end_of_stream"),
        (r"^but found another document$", "another_document"),
        (r"^found undefined alias (.+)$", "undefined_alias"),
        (r"^found unknown escape character .*$", "escape"),
        (r"^expected escape sequence of .*$", "escape"),
        (r"^expected ',' or '[\]}]', but got .*$", "flow_separator"),
        (r"^second occurrence$", "duplicate_anchor"),
        (r"^expected alphabetic or numeric character, but found .*$", "anchor_name"),
        (r"^expected the node content, but found .*$", "no_value"),
        (r"^found incompatible YAML document.*$", "yaml_version"),
        (r"^expected chomping or indentation indicators, but found .*$", "block_indicator"),
        (r"^expected '<document start>', but found (.+)$", "extra_at_end"),
        (r"^expected a comment or a line break, but found (.+)$", "extra_on_line"),
    ]
]


def yaml_problem(detail: str | None) -> str:
    """PyYAML's `problem` (English) as an editor reads it; an unlisted one is quoted."""
    if not detail:
        return t("yaml.other")
    for pattern, key in _YAML_PROBLEMS:
        found = pattern.match(detail.strip())
        if found:
            return t(f"yaml.{key}", **dict(zip("a", found.groups(), strict=False)))
    return t("yaml.untranslated", a=detail)
