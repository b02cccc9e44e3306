"""Reading the operator's TOML files and pointing at the line of any problem.

tomllib does not keep positions, so a schema error is located by scanning the
file text for the offending key (:func:`locate_key_line`), and
:class:`TomlReader` gives typed access to a parsed table that fails with
:class:`RuleFileError` naming the file and the line.
"""

from __future__ import annotations

import math
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, NoReturn

KeyPath = tuple[str | int, ...]


class RuleFileError(Exception):
    """A rule file is unreadable or breaks the schema.

    The message always starts with ``<path>:<line>:`` so editors and CI logs
    can jump to the spot.
    """

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        super().__init__(f"{self.path}:{line}: {problem}")


# --------------------------------------------------------------------------
# Locating keys in the file text
# --------------------------------------------------------------------------
_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER_RE = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED_KEY})\s*\]\]?\s*(?:#.*)?$")
_KEYLINE_RE = re.compile(rf"^\s*({_DOTTED_KEY})\s*=")
_PART_RE = re.compile(_KEY_PART)


def _split_dotted(key: str) -> tuple[str, ...]:
    parts = []
    for raw in _PART_RE.findall(key):
        if raw[:1] in "\"'":
            raw = raw[1:-1]
        parts.append(raw)
    return tuple(parts)


def locate_key_line(text: str, keypath: KeyPath) -> int:
    """Best-effort line number (1-based) of ``keypath`` in TOML ``text``.

    Returns the line of the deepest table or key on the path that exists in
    the file (so a missing key points at its table header), or 1.
    """
    best_line, best_depth = 1, 0
    current: tuple[str | int, ...] = ()
    array_counts: dict[tuple[str | int, ...], int] = {}
    in_multiline = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        # Skip the bodies of multi-line strings; they may contain "x = y".
        triple_count = raw.count('"""') + raw.count("'''")
        if in_multiline:
            if triple_count % 2 == 1:
                in_multiline = False
            continue
        candidate: tuple[str | int, ...] | None = None
        header = _HEADER_RE.match(raw)
        if header:
            parts = _split_dotted(header.group(2))
            if header.group(1) == "[[":
                index = array_counts.get(parts, -1) + 1
                array_counts[parts] = index
                current = parts + (index,)
            else:
                current = parts
            candidate = current
        else:
            keyline = _KEYLINE_RE.match(raw)
            if keyline:
                candidate = current + _split_dotted(keyline.group(1))
            if triple_count % 2 == 1:
                in_multiline = True
        if candidate is None:
            continue
        depth = len(candidate)
        if depth > best_depth and depth <= len(keypath) and tuple(keypath[:depth]) == candidate:
            best_line, best_depth = lineno, depth
    return best_line


def dotted_key(keypath: KeyPath) -> str:
    """``keypath`` as written in messages: ``checklist[3].unit``."""
    out = ""
    for part in keypath:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "<root>"


# --------------------------------------------------------------------------
# Typed reading of parsed tables
# --------------------------------------------------------------------------
# A key's default meaning "required: fail when absent".
MISSING: Any = object()


class TomlReader:
    """Typed access to the parsed TOML that fails with file and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, keypath: KeyPath, problem: str) -> NoReturn:
        raise RuleFileError(self.path, locate_key_line(self.text, keypath), problem)

    def _get(self, table: dict[str, Any], where: KeyPath, key: str, default: Any) -> Any:
        if key in table:
            return table[key]
        if default is MISSING:
            self.fail(where + (key,), f"missing key {dotted_key(where + (key,))}")
        return default

    def only_keys(self, table: dict[str, Any], where: KeyPath, allowed: set[str] | tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                self.fail(
                    where + (key,),
                    f"unknown key {dotted_key(where + (key,))}; allowed: {', '.join(sorted(allowed))}",
                )

    def table(
        self, table: dict[str, Any], where: KeyPath, key: str, default: Any = MISSING
    ) -> dict[str, Any]:
        value = self._get(table, where, key, default)
        if not isinstance(value, dict):
            self.fail(
                where + (key,),
                f"{dotted_key(where + (key,))} must be a table, got {type(value).__name__}",
            )
        return value

    def number(
        self,
        table: dict[str, Any],
        where: KeyPath,
        key: str,
        *,
        default: Any = MISSING,
        minimum: float | None = None,
        maximum: float | None = None,
        integer: bool = False,
    ) -> Any:
        value = self._get(table, where, key, default)
        if value is None:
            return None
        name = dotted_key(where + (key,))
        if integer:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(
                    where + (key,),
                    f"{name} must be an integer, got {type(value).__name__} {value!r}",
                )
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where + (key,), f"{name} must be a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            self.fail(where + (key,), f"{name} must be finite, got {value!r}")
        if minimum is not None and value < minimum:
            self.fail(where + (key,), f"{name} must be >= {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            self.fail(where + (key,), f"{name} must be <= {maximum}, got {value!r}")
        return value if integer else float(value)

    def text_value(
        self,
        table: dict[str, Any],
        where: KeyPath,
        key: str,
        *,
        default: Any = MISSING,
        choices: tuple[str, ...] | None = None,
    ) -> Any:
        value = self._get(table, where, key, default)
        if value is None:
            return None
        name = dotted_key(where + (key,))
        if not isinstance(value, str):
            self.fail(where + (key,), f"{name} must be a string, got {type(value).__name__} {value!r}")
        if choices is not None and value not in choices:
            self.fail(where + (key,), f"{name} is {value!r}; allowed: {', '.join(choices)}")
        if choices is None and not value.strip():
            self.fail(where + (key,), f"{name} must not be empty")
        return value

    def boolean(self, table: dict[str, Any], where: KeyPath, key: str, *, default: Any = MISSING) -> bool:
        value = self._get(table, where, key, default)
        if not isinstance(value, bool):
            self.fail(where + (key,), f"{dotted_key(where + (key,))} must be true or false, got {value!r}")
        return value

    def clock_time(self, table: dict[str, Any], where: KeyPath, key: str) -> time:
        value = self._get(table, where, key, MISSING)
        if not isinstance(value, time):
            self.fail(
                where + (key,),
                f"{dotted_key(where + (key,))} must be a TOML local time such as 08:00:00, got {value!r}",
            )
        return value

    def code_list(
        self,
        table: dict[str, Any],
        where: KeyPath,
        key: str,
        choices: tuple[str, ...],
        *,
        default: Any = MISSING,
    ) -> frozenset[str]:
        value = self._get(table, where, key, default)
        name = dotted_key(where + (key,))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where + (key,), f"{name} must be a list of strings, got {value!r}")
        for code in value:
            if code not in choices:
                self.fail(
                    where + (key,),
                    f"{name} has unknown code {code!r}; allowed: {', '.join(choices)}",
                )
        return frozenset(value)


def decode_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int:
    """The line of a TOML syntax error: in the exception from 3.14, in its message before."""
    lineno = getattr(exc, "lineno", None)  # Python 3.14+
    if isinstance(lineno, int):
        return lineno
    match = re.search(r"at line (\d+)", str(exc))
    if match:
        return int(match.group(1))
    # "at end of document"
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


def read_rule_text(path: Path) -> str:
    """Read a rule file as UTF-8 text; failures become RuleFileError."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, 0, f"cannot read rule file: {exc}") from exc


def read_toml_file(path: Path) -> tuple[str, dict[str, Any]]:
    """Read a TOML file; I/O and syntax errors become RuleFileError with a line."""
    text = read_rule_text(path)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(path, decode_error_line(exc, text), f"TOML syntax error: {exc}") from exc
