"""Load the official Telegram Bot API spec and check calls against it.

The spec is the machine-readable ``api.min.json`` (the format published by
PaulSonOfLars/telegram-bot-api-spec): ``methods`` and ``types``, each with
``fields`` carrying ``name``, ``types`` (a union such as ``["Integer", "String"]``
or ``["Array of MessageEntity"]``), ``required`` and a prose ``description``.

Besides the structural checks (required fields, unknown fields, value types,
recursively through object types and unions) a few rules that live only in the
prose are enforced, because real Telegram rejects calls that break them:

* length limits written as ``"1-4096 characters"`` / ``"1-64 bytes"`` in a field
  description (``after entities parsing`` means HTML tags / MarkdownV2 markup do
  not count), and item counts such as ``"include 2-10 items"`` or
  ``"At most 100 commands"``;
* ``"Required if inline_message_id is not specified"`` style conditional fields;
* discriminators such as ``"Type of the media, must be photo"``;
* ``parse_mode`` must be HTML, Markdown or MarkdownV2, and the text must parse
  in that mode (unsupported HTML tags such as ``<br>``, unclosed tags, unescaped
  MarkdownV2 reserved characters ...);
* inline keyboards: rows must be non-empty and each button needs exactly one
  action field; reply keyboard buttons at most one;
* ``BotCommand.command`` only ``[a-z0-9_]``; webhook ``secret_token`` only
  ``[A-Za-z0-9_-]``; ``sendChatAction`` action from the documented list.

Every problem is returned as a human-readable string such as
``"reply_markup.inline_keyboard[0][1].callback_data: 65 bytes, must be 1-64 bytes"``.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "SPEC_AVAILABLE",
    "SPEC_PATH",
    "FieldSpec",
    "FileRef",
    "MethodSpec",
    "TelegramSpec",
    "TypeSpec",
    "get_spec",
    "html_visible_text",
    "load_spec",
    "parse_entities",
]

#: Location of the spec: ``<workspace>/shared/reference/telegram-bot-api/api.min.json``
#: where ``<workspace>`` is the parent of the repository root.  The environment
#: variable ``TELEGRAM_BOT_API_SPEC`` overrides it.
SPEC_PATH: Path = Path(
    os.environ.get(
        "TELEGRAM_BOT_API_SPEC",
        Path(__file__).resolve().parents[2].parent
        / "shared"
        / "reference"
        / "telegram-bot-api"
        / "api.min.json",
    )
)
SPEC_AVAILABLE: bool = SPEC_PATH.is_file()

PRIMITIVES = frozenset({"Integer", "String", "Boolean", "Float"})
PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
#: Tags accepted by Telegram's HTML parse mode (lower case).
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
        "tg-time",
    }
)
#: Fields that older Bot API versions had; Telegram still tolerates them but they are
#: not in the spec any more.  aiogram sends ``disable_web_page_preview`` when the bot
#: is built with ``DefaultBotProperties(link_preview_is_disabled=True)``; use
#: ``DefaultBotProperties(link_preview=LinkPreviewOptions(is_disabled=True))`` instead.
_REMOVED_FIELDS = {
    "disable_web_page_preview": " (removed in Bot API 7.0: use link_preview_options; in aiogram "
    "DefaultBotProperties(link_preview=LinkPreviewOptions(is_disabled=True)))",
    "reply_to_message_id": " (removed in Bot API 7.0: use reply_parameters)",
    "allow_sending_without_reply": " (removed in Bot API 7.0: use "
    "reply_parameters.allow_sending_without_reply)",
}
#: Button fields that do not count as the button's "action".
_BUTTON_NON_ACTION = frozenset({"text", "icon_custom_emoji_id", "style"})
_ATTACH = "attach://"


@dataclass(frozen=True)
class FileRef:
    """Stands for a file part uploaded directly under a field's own name."""

    part: str


# --------------------------------------------------------------------------- spec model


@dataclass
class FieldSpec:
    """One field of a method or an object type, with limits derived from its prose."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str = ""
    min_len: int | None = None
    max_len: int | None = None
    len_unit: str = "characters"  # or "bytes"
    after_entities: bool = False
    min_items: int | None = None
    max_items: int | None = None
    const: str | None = None  # discriminator value ("must be photo")
    required_unless: tuple[str, ...] = ()  # required if none of these is present


@dataclass
class TypeSpec:
    """An object type (``fields``), an abstract union (``subtypes``) or an opaque type."""

    name: str
    fields: dict[str, FieldSpec] | None = None
    subtypes: tuple[str, ...] | None = None
    description: str = ""

    @property
    def string_allowed(self) -> bool:
        """``KeyboardButton``: "String can be used instead of this object"."""
        return "String can be used instead of this object" in self.description


@dataclass
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    returns: tuple[str, ...] = ()
    description: str = ""


_LEN_RE = re.compile(r"\b(\d+)\s*-\s*(\d+)\s+(characters|bytes)\b", re.IGNORECASE)
_ITEMS_RE = re.compile(
    r"(?:list of|include|List of)\s+(\d+)\s*-\s*(\d+)\b|\bat most (\d+)\b", re.IGNORECASE
)
_CONST_RE = re.compile(r"(?:must be|always)\s+\"?([a-z_]+)\"?")
_REQ_IF_RE = re.compile(
    r"required if ((?:\w+)(?: and \w+)*) (?:is|are) not specified"
    r"|required if (\w+) isn't specified",
    re.IGNORECASE,
)


def _build_field(raw: Mapping[str, Any], sibling_names: set[str]) -> FieldSpec:
    """Turn one raw spec field into a :class:`FieldSpec`, parsing limits from the prose."""
    desc: str = raw.get("description", "") or ""
    types = tuple(raw.get("types", ()))
    spec = FieldSpec(
        name=raw["name"], types=types, required=bool(raw.get("required")), description=desc
    )
    if types == ("String",):
        if m := _LEN_RE.search(desc):
            spec.min_len, spec.max_len = int(m.group(1)), int(m.group(2))
            spec.len_unit = m.group(3).lower()
            spec.after_entities = "after entit" in desc
        if spec.name in ("type", "status", "source") and (m := _CONST_RE.search(desc)):
            spec.const = m.group(1)
    if types and all(t.startswith("Array of") for t in types) and (m := _ITEMS_RE.search(desc)):
        if m.group(3):
            spec.max_items = int(m.group(3))
        else:
            spec.min_items, spec.max_items = int(m.group(1)), int(m.group(2))
    if not spec.required and (m := _REQ_IF_RE.search(desc)):
        names = (m.group(1) or m.group(2)).split(" and ")
        if all(n in sibling_names for n in names):
            spec.required_unless = tuple(names)
    return spec


def _build_fields(raw_fields: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    raw_list = list(raw_fields)
    names = {f["name"] for f in raw_list}
    return {f["name"]: _build_field(f, names) for f in raw_list}


# --------------------------------------------------------------------------- formatting


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)/?>")


def _parse_html(text: str) -> tuple[str | None, str]:
    """Parse Telegram HTML; return ``(error or None, visible text)``."""
    stack: list[tuple[str, int]] = []
    out: list[str] = []
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:lt])
        m = _TAG_RE.match(text, lt)
        if m is None:
            return (
                f"can't parse entities: Unexpected '<' at byte offset {_byte_offset(text, lt)}"
                " (escape it as &lt;)",
                "",
            )
        closing, name = m.group(1) == "/", m.group(2).lower()
        if closing:
            if not stack or stack[-1][0] != name:
                expected = f', expected "</{stack[-1][0]}>"' if stack else ""
                return (
                    f"can't parse entities: Unmatched end tag at byte offset "
                    f'{_byte_offset(text, lt)}{expected}, found "</{name}>"',
                    "",
                )
            stack.pop()
        else:
            if name not in HTML_TAGS:
                return (
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset '
                    f"{_byte_offset(text, lt)}",
                    "",
                )
            stack.append((name, lt))
        pos = m.end()
    if stack:
        name, at = stack[-1]
        return (
            f"can't parse entities: Can't find end tag corresponding to start tag "
            f'"{name}" at byte offset {_byte_offset(text, at)}',
            "",
        )
    return None, html.unescape("".join(out))


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _parse_markdown_v2(text: str) -> tuple[str | None, str]:
    """A conservative MarkdownV2 parser: reserved characters and unclosed entities."""
    out: list[str] = []
    open_at: dict[str, int] = {}  # entity name -> index where it was opened
    link_depth: list[int] = []
    i, n = 0, len(text)
    line_start = True
    expandable = False

    def toggle(name: str, at: int) -> None:
        if name in open_at:
            del open_at[name]
        else:
            open_at[name] = at

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "\\":
            if not nxt:
                return "can't parse entities: Character '\\' is reserved (trailing backslash)", ""
            out.append(nxt)
            i += 2
        elif text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                return (
                    "can't parse entities: Can't find end of PreCode entity at byte offset "
                    f"{_byte_offset(text, i)}",
                    "",
                )
            body = text[i + 3 : end]
            first, sep, rest = body.partition("\n")
            if sep and first and not any(ch.isspace() for ch in first):
                body = rest  # ```python\n...``` : the first line is the language
            out.append(re.sub(r"\\([`\\])", r"\1", body))
            i = end + 3
        elif c == "`":
            end = i + 1
            while end < n and text[end] != "`":
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                return (
                    "can't parse entities: Can't find end of Code entity at byte offset "
                    f"{_byte_offset(text, i)}",
                    "",
                )
            out.append(re.sub(r"\\([`\\])", r"\1", text[i + 1 : end]))
            i = end + 1
        elif c == "[" or (c == "!" and nxt == "["):
            link_depth.append(i)
            i += 1 if c == "[" else 2
        elif c == "]" and link_depth:
            link_depth.pop()
            i += 1
            if i < n and text[i] == "(":
                end = i + 1
                while end < n and text[end] != ")":
                    end += 2 if text[end] == "\\" else 1
                if end >= n:
                    return "can't parse entities: Can't find end of a URL", ""
                i = end + 1
        elif line_start and text.startswith("**>", i):
            expandable = True  # expandable block quotation, closed by a trailing "||"
            i += 3
        elif c == "_" and nxt == "_":
            toggle("Underline", i)
            i += 2
        elif c == "|" and nxt == "|":
            toggle("Spoiler", i)
            i += 2
        elif c in "*_~":
            toggle({"*": "Bold", "_": "Italic", "~": "Strikethrough"}[c], i)
            i += 1
        elif c == ">" and line_start:
            i += 1  # block quotation
        elif (
            expandable
            and text.startswith("||", i)
            and "Spoiler" not in open_at
            and (i + 2 == n or text[i + 2] == "\n")
        ):
            expandable = False
            i += 2
        elif c in _MDV2_RESERVED:
            return (
                f"can't parse entities: Character '{c}' is reserved and must be escaped "
                "with the preceding '\\'",
                "",
            )
        else:
            out.append(c)
            i += 1
        line_start = i > 0 and text[i - 1] == "\n"
    if link_depth:
        return "can't parse entities: Can't find end of a text link ('[' without ']')", ""
    if open_at:
        name, at = min(open_at.items(), key=lambda kv: kv[1])
        return (
            f"can't parse entities: Can't find end of {name} entity at byte offset "
            f"{_byte_offset(text, at)}",
            "",
        )
    return None, "".join(out)


def _parse_markdown_legacy(text: str) -> tuple[str | None, str]:
    """Legacy Markdown: ``*bold*``, ``_italic_``, `` `code` ``, ```` ```pre``` ````, links."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            token, closer, name = "```", "```", "pre"
        elif c in "*_`[":
            token = c
            closer = "]" if c == "[" else c
            name = {"*": "bold", "_": "italic", "`": "code", "[": "text link"}[c]
        else:
            out.append(c)
            i += 1
            continue
        end = text.find(closer, i + len(token))
        if end < 0:
            return (
                f"can't parse entities: Can't find end of the {name} entity starting at "
                f"byte offset {_byte_offset(text, i)}",
                "",
            )
        out.append(text[i + len(token) : end])
        i = end + len(closer)
        if token == "[" and i < n and text[i] == "(":
            close = text.find(")", i)
            i = n if close < 0 else close + 1
    return None, "".join(out)


def parse_entities(text: str, parse_mode: str | None) -> tuple[str | None, str]:
    """Parse ``text`` like Telegram would; return ``(error or None, visible text)``."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown_legacy(text)
    return None, text


def html_visible_text(text: str) -> str:
    """Visible text of a Telegram-HTML string (tags removed, entities unescaped)."""
    err, visible = _parse_html(text)
    return text if err else visible


# --------------------------------------------------------------------------- checking


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, FileRef):
        return "file"
    return type(value).__name__


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class TelegramSpec:
    """The parsed Bot API spec plus the checking logic."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version: str = raw.get("version", "?")
        self.types: dict[str, TypeSpec] = {}
        for name, t in raw.get("types", {}).items():
            self.types[name] = TypeSpec(
                name=name,
                fields=_build_fields(t["fields"]) if "fields" in t else None,
                subtypes=tuple(t["subtypes"]) if "subtypes" in t else None,
                description=" ".join(t.get("description", [])),
            )
        self.methods: dict[str, MethodSpec] = {}
        for name, m in raw.get("methods", {}).items():
            self.methods[name] = MethodSpec(
                name=name,
                fields=_build_fields(m.get("fields", [])),
                returns=tuple(m.get("returns", ())),
                description=" ".join(m.get("description", [])),
            )
        self._lower = {name.lower(): name for name in self.methods}

    # ---- lookup -----------------------------------------------------------------

    def method(self, name: str) -> MethodSpec | None:
        """The method spec; names are case-insensitive, as on Telegram."""
        canonical = self._lower.get(name.lower())
        return self.methods[canonical] if canonical else None

    # ---- decoding ---------------------------------------------------------------

    def decode_value(self, raw: str, types: Iterable[str]) -> Any:
        """Decode one form/query string value using the field's declared types.

        Form values are always strings; aiogram JSON-encodes everything that is
        not a string.  ``"123"`` becomes ``123`` for an Integer field but stays
        ``"123"`` for a String field.
        """
        types = tuple(types)
        if "Integer" in types and re.fullmatch(r"-?\d+", raw.strip()):
            return int(raw)
        if "Float" in types:
            try:
                return float(raw)
            except ValueError:
                pass
        if "Boolean" in types and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        structured = any(t not in PRIMITIVES and t != "InputFile" for t in types)
        if structured and raw.strip()[:1] in ("{", "["):
            try:
                return json.loads(raw)
            except ValueError:
                pass
        if "String" in types or "InputFile" in types:
            return raw
        try:  # no String alternative: return the JSON value so the type error is precise
            return json.loads(raw)
        except ValueError:
            return raw

    def decode_params(self, method: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Decode string values of a call according to the method's field types."""
        ms = self.method(method)
        out: dict[str, Any] = {}
        for name, value in raw.items():
            spec = ms.fields.get(name) if ms else None
            if not isinstance(value, str):
                out[name] = value
            elif spec is not None:
                out[name] = self.decode_value(value, spec.types)
            else:
                out[name] = _decode_unknown(value)
        return out

    # ---- checking ---------------------------------------------------------------

    def check_call(
        self, method: str, params: Mapping[str, Any], files: Iterable[str] = ()
    ) -> list[str]:
        """Check one call; return the list of problems (empty when valid).

        ``params`` are decoded values (see :meth:`decode_params`); ``files`` are the
        names of uploaded file parts.  A part uploaded under a field's own name
        (instead of ``attach://``) counts as that field's value.
        """
        ms = self.method(method)
        if ms is None:
            return [f"unknown method {method!r} (not in Bot API {self.version})"]
        files = frozenset(files)
        values = dict(params)
        referenced = _attach_refs(params)
        for part in files:
            if part not in values and part not in referenced and part in ms.fields:
                values[part] = FileRef(part)
        problems = self._check_fields(values, ms.fields, "", files, owner=ms.name)
        problems += _method_rules(ms.name, values)
        return problems

    def check_value(
        self, value: Any, types: str | Iterable[str], path: str = "", files: Iterable[str] = ()
    ) -> list[str]:
        """Check a JSON value against a type expression or union (e.g. a method result)."""
        union = (types,) if isinstance(types, str) else tuple(types)
        return self._check_union(value, union, path, frozenset(files))

    def _check_fields(
        self,
        obj: Mapping[str, Any],
        fields: Mapping[str, FieldSpec],
        path: str,
        files: frozenset[str],
        owner: str,
    ) -> list[str]:
        problems: list[str] = []
        for name in obj:
            if name not in fields:
                hint = _REMOVED_FIELDS.get(name, "")
                problems.append(f"{_join(path, name)}: unknown field for {owner}{hint}")
        for name, spec in fields.items():
            if name in obj:
                problems += self._check_field(obj[name], spec, _join(path, name), obj, files)
            elif spec.required:
                problems.append(f"{_join(path, name)}: required field is missing")
            elif spec.required_unless and not any(n in obj for n in spec.required_unless):
                problems.append(
                    f"{_join(path, name)}: required when {' and '.join(spec.required_unless)}"
                    " not given"
                )
        return problems

    def _check_field(
        self,
        value: Any,
        spec: FieldSpec,
        path: str,
        siblings: Mapping[str, Any],
        files: frozenset[str],
    ) -> list[str]:
        takes_file = "InputFile" in spec.types or _ATTACH in spec.description
        if takes_file and isinstance(value, str) and value.startswith(_ATTACH):
            part = value[len(_ATTACH) :]
            if part not in files:
                return [f"{path}: refers to file part {part!r} which was not uploaded"]
        problems = self._check_union(value, spec.types, path, files)
        if problems:
            return problems
        if isinstance(value, str):
            problems += _check_string(value, spec, path, siblings)
        elif isinstance(value, list):
            count = len(value)
            if spec.min_items is not None and count < spec.min_items:
                problems.append(f"{path}: {count} items, must have at least {spec.min_items}")
            if spec.max_items is not None and count > spec.max_items:
                problems.append(f"{path}: {count} items, at most {spec.max_items} allowed")
        return problems

    def _shape_ok(self, value: Any, texpr: str) -> bool:
        """Cheap check whether ``value`` has the JSON shape of ``texpr``."""
        if texpr.startswith("Array of "):
            return isinstance(value, list)
        if texpr == "Integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if texpr == "Float":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if texpr == "Boolean":
            return isinstance(value, bool)
        if texpr == "String":
            return isinstance(value, str)
        if texpr == "InputFile":
            return isinstance(value, FileRef) or (
                isinstance(value, str) and value.startswith(_ATTACH)
            )
        ts = self.types.get(texpr)
        if ts is not None and ts.subtypes:
            return any(self._shape_ok(value, sub) for sub in ts.subtypes)
        if ts is not None and ts.string_allowed and isinstance(value, str):
            return True
        return isinstance(value, dict)

    def _check_union(
        self, value: Any, union: tuple[str, ...], path: str, files: frozenset[str]
    ) -> list[str]:
        candidates = [t for t in union if self._shape_ok(value, t)]
        if not candidates:
            return [f"{path or 'value'}: expected {' or '.join(union)}, got {_describe(value)}"]
        best: tuple[bool, int] | None = None
        best_problems: list[str] = []
        for texpr in candidates:
            problems = self._check_type(value, texpr, path, files)
            if not problems:
                return []
            # Report against the most plausible alternative: the one whose discriminator
            # ("type": "chat" ...) matches, then the one with the fewest problems.
            rank = (not self._discriminator_matches(value, texpr), len(problems))
            if best is None or rank < best:
                best, best_problems = rank, problems
        return best_problems

    def _discriminator_matches(self, value: Any, texpr: str) -> bool:
        ts = self.types.get(texpr)
        if ts is None or not ts.fields or not isinstance(value, dict):
            return True
        return all(
            value.get(name) == spec.const
            for name, spec in ts.fields.items()
            if spec.const is not None
        )

    def _check_type(self, value: Any, texpr: str, path: str, files: frozenset[str]) -> list[str]:
        if texpr.startswith("Array of "):
            inner = texpr[len("Array of ") :]
            problems: list[str] = []
            for i, item in enumerate(value):
                problems += self._check_union(item, (inner,), f"{path}[{i}]", files)
            return problems
        if texpr in PRIMITIVES:
            return [] if self._shape_ok(value, texpr) else [f"{path}: expected {texpr}"]
        if texpr == "InputFile":
            if isinstance(value, FileRef):
                return []
            part = value[len(_ATTACH) :]
            return [] if part in files else [f"{path}: file part {part!r} was not uploaded"]
        ts = self.types.get(texpr)
        if ts is None:
            return []  # a type the spec does not describe: nothing to check
        if ts.subtypes:
            return self._check_union(value, ts.subtypes, path, files)
        if ts.string_allowed and isinstance(value, str):
            return []
        if not isinstance(value, dict):
            return [f"{path}: expected {texpr} object, got {_describe(value)}"]
        problems = self._check_fields(value, ts.fields or {}, path, files, owner=texpr)
        for name, spec in (ts.fields or {}).items():
            if spec.const is not None and value.get(name) not in (None, spec.const):
                problems.append(f"{_join(path, name)}: must be {spec.const!r} for {texpr}")
        return problems + _type_rules(texpr, value, path)


def _decode_unknown(raw: str) -> Any:
    """Best-effort decoding of a form value of a field the spec does not know."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _attach_refs(value: Any) -> set[str]:
    """All ``attach://name`` references anywhere inside a params structure."""
    refs: set[str] = set()
    if isinstance(value, str) and value.startswith(_ATTACH):
        refs.add(value[len(_ATTACH) :])
    elif isinstance(value, Mapping):
        for v in value.values():
            refs |= _attach_refs(v)
    elif isinstance(value, list):
        for v in value:
            refs |= _attach_refs(v)
    return refs


def _check_string(value: str, spec: FieldSpec, path: str, siblings: Mapping[str, Any]) -> list[str]:
    """Prose-derived rules for one string value: parse mode, formatting, length."""
    problems: list[str] = []
    name = spec.name
    if name == "parse_mode" or name.endswith("_parse_mode"):
        if value.lower() not in PARSE_MODES:
            problems.append(f"{path}: unsupported parse_mode {value!r}")
        return problems
    measured = value
    if spec.after_entities:
        mode = siblings.get(f"{name}_parse_mode", siblings.get("parse_mode"))
        if isinstance(mode, str) and mode.lower() in PARSE_MODES:
            error, measured = parse_entities(value, mode)
            if error:
                return [f"{path}: {error}"]
    if spec.min_len is None or spec.max_len is None:
        return problems
    size = len(measured.encode("utf-8")) if spec.len_unit == "bytes" else len(measured)
    if spec.min_len >= 1 and spec.after_entities and not measured.strip():
        problems.append(f"{path}: text must be non-empty (it is empty after entities parsing)")
    elif not spec.min_len <= size <= spec.max_len:
        problems.append(
            f"{path}: {size} {spec.len_unit}, must be {spec.min_len}-{spec.max_len} {spec.len_unit}"
        )
    return problems


_COMMAND_RE = re.compile(r"[a-z0-9_]+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]+")


def _type_rules(texpr: str, value: Mapping[str, Any], path: str) -> list[str]:
    """Rules from the prose of object types."""
    problems: list[str] = []
    if texpr in ("InlineKeyboardMarkup", "ReplyKeyboardMarkup"):
        key = "inline_keyboard" if texpr == "InlineKeyboardMarkup" else "keyboard"
        rows = value.get(key)
        if isinstance(rows, list):
            for i, row in enumerate(rows):
                if isinstance(row, list) and not row:
                    problems.append(f"{_join(path, key)}[{i}]: keyboard row must not be empty")
    elif texpr == "InlineKeyboardButton":
        actions = sorted(k for k in value if k not in _BUTTON_NON_ACTION)
        if len(actions) != 1:
            problems.append(
                f"{path}: an inline button needs exactly one action field "
                f"(callback_data, url, ...), got {actions or 'none'}"
            )
    elif texpr == "KeyboardButton":
        actions = sorted(k for k in value if k not in _BUTTON_NON_ACTION)
        if len(actions) > 1:
            problems.append(f"{path}: a keyboard button allows at most one action, got {actions}")
    elif texpr == "BotCommand":
        command = value.get("command")
        if isinstance(command, str) and command and not _COMMAND_RE.fullmatch(command):
            problems.append(
                f"{_join(path, 'command')}: {command!r} may contain only lowercase English "
                "letters, digits and underscores"
            )
    return problems


def _method_rules(method: str, params: Mapping[str, Any]) -> list[str]:
    """Rules from the prose of methods."""
    problems: list[str] = []
    if method == "setWebhook":
        secret = params.get("secret_token")
        if isinstance(secret, str) and secret and not _SECRET_RE.fullmatch(secret):
            problems.append("secret_token: only A-Z, a-z, 0-9, _ and - are allowed")
    elif method == "sendChatAction":
        action = params.get("action")
        if isinstance(action, str) and action not in CHAT_ACTIONS:
            problems.append(f"action: {action!r} is not a supported chat action")
    return problems


# --------------------------------------------------------------------------- loading


def load_spec(path: Path | str = SPEC_PATH) -> TelegramSpec:
    """Parse the spec file at ``path`` (raises ``FileNotFoundError`` if absent)."""
    with open(path, encoding="utf-8") as fh:
        return TelegramSpec(json.load(fh))


@lru_cache(maxsize=1)
def get_spec() -> TelegramSpec | None:
    """The spec from :data:`SPEC_PATH`, parsed once; ``None`` when the file is absent."""
    return load_spec(SPEC_PATH) if SPEC_AVAILABLE else None
