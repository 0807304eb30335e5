"""TOML text to data for any file a user may hand over: a syntax error, values nested deeper
than Python can follow and integers longer than Python converts all end as `TomlProblems`
naming the key (or, for syntax, the line), never as an exception from inside `tomllib`.

`tomllib` raises `RecursionError` for arrays or inline tables nested a few hundred levels deep
and a plain `ValueError` for an integer of more than 4,300 digits (Python's guard against
quadratic conversions, `sys.get_int_max_str_digits()`), neither with a position. When that
happens, the offending values are found in the text, replaced by a marker, and the text is
parsed again to learn which keys held them.
"""

from __future__ import annotations

import re
import sys
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# No key of the configuration nests more than five levels (`functions.<key>.grants.
# bucket_read[0]`); anything far deeper is refused before validation, which (like printing
# the value) recurses once per level.
MAX_NESTING = 32
# Python refuses to convert longer decimal integers (`sys.get_int_max_str_digits()`).
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits() or sys.maxsize

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class TomlProblem:
    # The key holding the value, when known; None for a syntax error (`message` has the line).
    loc: Location | None
    message: str


class TomlProblems(Exception):
    def __init__(self, problems: list[TomlProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def parse_toml(text: str) -> dict[str, Any]:
    """The data of a TOML document; TomlProblems for anything the configuration cannot hold."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TomlProblems([TomlProblem(None, f"invalid TOML: {error}")]) from None
    except (RecursionError, ValueError) as error:
        raise TomlProblems(_locate_excess(text, error)) from None
    too_deep = _first_too_deep(data)
    if too_deep is not None:
        raise TomlProblems([TomlProblem(too_deep, _TOO_DEEP)])
    return data


_TOO_DEEP = (
    f"nested more than {MAX_NESTING} levels deep; no key of the configuration nests that deep"
)


def _locate_excess(text: str, error: Exception) -> list[TomlProblem]:
    """The keys of the values tomllib could not read, found by parsing the text again with
    each such value replaced by a marker string."""
    marker = f"\x00{uuid.uuid4().hex}:"
    replaced, messages = _replace_excess(text, marker)
    if not messages:
        return [TomlProblem(None, f"invalid TOML: {_describe(error)}")]
    try:
        data = tomllib.loads(replaced)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as again:
        return [TomlProblem(None, f"invalid TOML: {_describe(again)}")]
    return [
        TomlProblem(loc, messages[int(value.removeprefix(marker))])
        for loc, value in _strings(data)
        if value.startswith(marker)
    ]


def _describe(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "values nested too deeply to read"
    return str(error)


def _replace_excess(text: str, marker: str) -> tuple[str, list[str]]:
    """The text with every too deeply nested value and every over-long integer replaced by
    the string `marker<n>`, and the message for each n."""
    pieces: list[str] = []
    messages: list[str] = []
    end = 0
    for start, stop, message in _excess_values(text):
        pieces += [text[end:start], f'"\\u0000{marker[1:]}{len(messages)}"']
        messages.append(message)
        end = stop
    return "".join([*pieces, text[end:]]), messages


def _excess_values(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, stop, message) of each value nested too deep or integer too long, in text
    order and not overlapping; strings and comments are skipped."""
    scanner = _Scanner(text)
    while (token := scanner.next()) is not None:
        position, character, starts_value = token
        if character in "[{" and scanner.depth > MAX_NESTING:
            yield position, scanner.skip_past_close(), _TOO_DEEP
        elif starts_value and (character.isdigit() or character in "+-"):
            stop = scanner.skip_word(position)
            literal = text[position:stop]
            digits = len(literal) - literal.count("_") - (literal[0] in "+-")
            if digits > MAX_INTEGER_DIGITS and _DECIMAL_INTEGER.fullmatch(literal):
                message = (
                    f"an integer of {digits:,} digits; no setting takes a number anywhere near "
                    "that large"
                )
                yield position, stop, message


_DECIMAL_INTEGER = re.compile(r"[+-]?[0-9][0-9_]*")


class _Scanner:
    """Walks TOML text character by character outside strings and comments, knowing how deep
    in arrays and inline tables it is and whether a character starts a value (after `=`, or
    after an array's `[` or `,`) rather than a key."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        # Open brackets: "[" an array, "{" an inline table, "h" a table header.
        self.open: list[str] = []
        # The last character of code; "\n" at the start of a line outside any value.
        self.last = "\n"

    @property
    def depth(self) -> int:
        """Arrays and inline tables open around the current position."""
        return sum(bracket != "h" for bracket in self.open)

    def next(self) -> tuple[int, str, bool] | None:
        """The next character of code: its position, itself, and whether it starts a value."""
        text = self.text
        while self.index < len(text):
            position, character = self.index, text[self.index]
            self.index += 1
            if character == "#":
                found = text.find("\n", self.index)
                self.index = len(text) if found < 0 else found
            elif character in "\"'":
                self._skip_string(position, character)
                self.last = character
            elif character == "\n":
                if not self.open or self.open[-1] == "h":
                    self.open, self.last = [], "\n"
            elif not character.isspace():
                return position, character, self._take(character)
        return None

    def _take(self, character: str) -> bool:
        starts_value = self.last == "=" or (self.open[-1:] == ["["] and self.last in "[,")
        if character in "[{":
            header = character == "[" and (
                self.last == "\n" or (self.open[-1:] == ["h"] and self.last == "[")
            )
            self.open.append("h" if header else character)
        elif character in "]}" and self.open:
            self.open.pop()
        self.last = character
        return starts_value

    def skip_past_close(self) -> int:
        """Past the bracket closing the one just opened."""
        depth = len(self.open)
        while len(self.open) >= depth and self.next() is not None:
            pass
        return self.index

    def skip_word(self, position: int) -> int:
        """Past the number, date or word starting at `position`."""
        match = _WORD.match(self.text, position)
        self.index, self.last = (match.end() if match else position + 1), "0"
        return self.index

    def _skip_string(self, position: int, quote: str) -> None:
        """Past the string starting at `position` (an unterminated one: to its line's end)."""
        triple = self.text.startswith(quote * 3, position)
        match = _STRINGS[quote, triple].match(self.text, position)
        self.index = match.end() if match else len(self.text)


_WORD = re.compile(r"[\w.+:-]+")
# Basic strings know backslash escapes; literal strings do not. A multi-line string may end
# with up to two quotes of its own before its closing three.
_STRINGS = {
    ('"', False): re.compile(r'"(?:[^"\\\n]|\\.)*"?'),
    ('"', True): re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*(?:"""""|""""|""")?', re.DOTALL),
    ("'", False): re.compile(r"'[^'\n]*'?"),
    ("'", True): re.compile(r"'''(?:[^']|'(?!''))*(?:'''''|''''|''')?", re.DOTALL),
}


def _strings(data: Any) -> Iterator[tuple[Location, str]]:
    """Every string value with its location, without recursing (tables may nest deeply)."""
    pending: list[tuple[Location, Any]] = [((), data)]
    while pending:
        loc, value = pending.pop()
        if isinstance(value, str):
            yield loc, value
        else:
            pending += _children(loc, value)


def _first_too_deep(data: Any) -> Location | None:
    """The first location more than MAX_NESTING levels down, without recursing."""
    pending: list[tuple[Location, Any]] = [((), data)]
    while pending:
        loc, value = pending.pop()
        if len(loc) > MAX_NESTING:
            return loc
        pending += _children(loc, value)
    return None


def _children(loc: Location, value: Any) -> list[tuple[Location, Any]]:
    """The items of a table or array with their locations, last first (for a stack)."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    return [((*loc, key), item) for key, item in reversed(items)]
