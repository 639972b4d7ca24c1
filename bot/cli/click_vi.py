"""Vietnamese for the words Typer and its bundled Click print themselves: the help
option's line, "Usage:", "Aborted." and the usage errors ("No such option", "Missing
option", ...). Click in Typer 0.29 has no gettext hook any more, so the few places are
wrapped here, once, before the app runs; tests/test_cli_vietnamese.py fails if an upgrade
moves them. A message with no pattern below is shown as Click wrote it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.cli.texts import c

# (pattern on Click's message, catalog key); groups become {a}, {b}, ... in the text.
_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.S), key)
    for p, key in [
        (r"^No such option: (\S+?)\.? Did you mean (\S+?)\?$", "click_no_such_option_hint"),
        (r"^No such option: (\S+) \(Possible options: (.+)\)$", "click_no_such_option_hint"),
        (r"^No such option: (\S+)$", "click_no_such_option"),
        (r"^No such command '(.+)'\. Did you mean (.+)\?$", "click_no_such_command_hint"),
        (r"^No such command '(.+)'\.$", "click_no_such_command"),
        (r"^Missing command\.$", "click_missing_command"),
        (r"^Missing option '?(.+?)'?\.$", "click_missing_option"),
        (r"^Missing argument '?(.+?)'?\.$", "click_missing_argument"),
        (r"^Missing parameter '?(.+?)'?\.$", "click_missing_argument"),
        (r"^Option '(.+)' requires an argument\.$", "click_needs_value"),
        (r"^Option '(.+)' requires (\d+) arguments\.$", "click_needs_values"),
        (r"^Got unexpected extra arguments? \((.+)\)$", "click_extra_arguments"),
        (r"^Invalid value for '?(.+?)'?: .*(?:integer|int).*$", "click_not_integer"),
        (r"^Invalid value for '?(.+?)'?: .*(?:number|float).*$", "click_not_number"),
        (r"^Invalid value for '?(.+?)'?: .*not in the range (.+?)\.?$", "click_out_of_range"),
        (r"^Invalid value for '?(.+?)'?: .*does not exist\.?$", "click_no_such_file"),
        (r"^Invalid value for '?(.+?)'?: (.+)$", "click_invalid_value"),
    ]
]


def translate(message: str) -> str:
    """Click's English usage error as the officer reads it, or unchanged."""
    for pattern, key in _ERRORS:
        found = pattern.match(message.strip())
        if found:
            return c(key, **dict(zip("abcd", found.groups(), strict=False)))
    return message


def install() -> None:
    """Patch the bundled Click and Typer's rich output; safe to call more than once."""
    from typer import rich_utils
    from typer._click import decorators, formatting

    if getattr(decorators.help_option, "_vietnamese", False):
        return
    original_help = decorators.help_option

    def help_option(param_decls: list[str]) -> Callable[[Any], Any]:
        add = original_help(param_decls)

        def decorator(command: Any) -> Any:
            command = add(command)
            command.params[-1].help = c("click_help")  # the option just appended
            return command

        return decorator

    help_option._vietnamese = True  # type: ignore[attr-defined]
    decorators.help_option = help_option

    write_usage = formatting.HelpFormatter.write_usage

    def usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, c("click_usage") + " " if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = usage  # type: ignore[method-assign]

    format_error = rich_utils.rich_format_error

    def rich_format_error(error: Any) -> None:
        english = error.format_message
        error.format_message = lambda: translate(english())
        format_error(error)

    rich_utils.rich_format_error = rich_format_error
    rich_utils.ABORTED_TEXT = c("click_aborted")
    rich_utils.OptionHighlighter.highlights = [
        *rich_utils.OptionHighlighter.highlights,
        rf"(?P<usage>{re.escape(c('click_usage'))} )",
    ]
