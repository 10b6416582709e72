"""Typed reads from one INI section of ``bridge.conf``, and the error they raise.

``_Section`` turns the raw strings of one section into checked values (text,
numbers, choices, paths, secrets from a key, a file or an environment
variable) and reports keys nobody asked for; every failure is a ConfigError
naming the section, the key, what was expected and what was found, without
echoing a secret.  The settings modules (ldapbridge/config.py and its
siblings) build their frozen values on top of it.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or holds a bad value."""


class _Section:
    """Typed reads from one section, remembering which keys were used."""

    def __init__(
        self, parser: configparser.ConfigParser, name: str, config_dir: Path
    ) -> None:
        self.name = name
        # Relative secret files are beside the config file, as other paths are.
        self.config_dir = config_dir
        self._values = dict(parser[name]) if parser.has_section(name) else {}
        self._used: set[str] = set()

    def has(self, key: str) -> bool:
        # Asking about a key makes it a known one, named when a typo is reported.
        self._used.add(key)
        return key in self._values

    def text(self, key: str, default: str) -> str:
        self._used.add(key)
        return self._values.get(key, default).strip()

    def secret(self, key: str) -> str | None:
        """Read a secret from ``key``, ``key_file`` or ``key_env``."""
        variants = (key, key + "_file", key + "_env")
        self._used.update(variants)
        given = [v for v in variants if v in self._values]
        if len(given) > 1:
            self.fail(
                key,
                f"one of {', '.join(variants[:2])} or {variants[2]}",
                ", ".join(given),
            )
        if key in self._values:
            return self._values[key].strip()
        if key + "_file" in self._values:
            return self._read_secret_file(key + "_file")
        if key + "_env" in self._values:
            return self._read_secret_env(key + "_env")
        return None

    def secret_key(self, key: str) -> str:
        """Which of ``key``, ``key_file`` and ``key_env`` gave the secret."""
        for variant in (key, key + "_file", key + "_env"):
            if variant in self._values:
                return variant
        return key

    def _read_secret_file(self, key: str) -> str:
        path = self.path(key, self.config_dir)
        if path is None:
            self.fail(key, "the path of a file holding the secret", "nothing")
            raise AssertionError("unreachable")
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as e:
            self.fail(key, "a readable file", f"{path} ({e.strerror})")
        raise AssertionError("unreachable")

    def _read_secret_env(self, key: str) -> str:
        name = self._values[key].strip()
        if name not in os.environ:
            self.fail(key, "the name of a set environment variable", _env_name(name))
        return os.environ[name]

    def parse(self, key: str, default: T, convert: Callable[[str], T], want: str) -> T:
        self._used.add(key)
        if key not in self._values:
            return default
        raw = self._values[key].strip()
        try:
            return convert(raw)
        except ValueError:
            self.fail(key, want, repr(raw))
        raise AssertionError("unreachable")

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        def convert(raw: str) -> int:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError(raw)
            return value

        return self.parse(key, default, convert, f"an integer from {low} to {high}")

    def number(self, key: str, default: float, low: float, high: float) -> float:
        def convert(raw: str) -> float:
            value = float(raw)
            if not low <= value <= high:
                raise ValueError(raw)
            return value

        return self.parse(key, default, convert, f"a number from {low:g} to {high:g}")

    def boolean(self, key: str, default: bool) -> bool:
        words = {"true": True, "yes": True, "on": True, "1": True}
        words.update({"false": False, "no": False, "off": False, "0": False})

        def convert(raw: str) -> bool:
            return words[raw.lower()] if raw.lower() in words else _bad(raw)

        return self.parse(key, default, convert, "true or false")

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        def convert(raw: str) -> str:
            return raw.lower() if raw.lower() in allowed else _bad(raw)

        return self.parse(key, default, convert, "one of " + ", ".join(allowed))

    def path(self, key: str, base: Path) -> Path | None:
        """A path, relative to ``base`` unless absolute; None when unset."""
        raw = self.text(key, "")
        if not raw:
            return None
        path = Path(raw)
        return path if path.is_absolute() else base / path

    def words(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        def convert(raw: str) -> tuple[str, ...]:
            return tuple(w.strip() for w in raw.split(",") if w.strip())

        return self.parse(key, default, convert, "a comma-separated list")

    def fail(self, key: str, expected: str, found: str) -> None:
        raise ConfigError(f"[{self.name}] {key}: expected {expected}, found {found}")

    def check_unknown(self) -> None:
        unknown = sorted(set(self._values) - self._used)
        if unknown:
            known = ", ".join(sorted(self._used)) or "none"
            raise ConfigError(
                f"[{self.name}]: unknown key(s) {', '.join(unknown)}; "
                f"expected one of {known}"
            )


# Variable names as shells and systemd write them.  Anything else given as a
# name may be the secret itself, pasted into the wrong key.
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def _env_name(name: str) -> str:
    if ENV_NAME.fullmatch(name):
        return repr(name)
    return "a value that is not an upper-case variable name (not shown)"


def _bad(raw: str) -> T:  # type: ignore[type-var]
    raise ValueError(raw)


def _ini_problem(error: configparser.Error) -> str:
    """Where the file breaks INI, by line number and key name only.

    configparser quotes the offending lines, and a line that broke is often
    a secret pasted without its key: it must not reach a terminal or a log.
    """
    match error:
        case configparser.MissingSectionHeaderError():
            return f"line {error.lineno}: a key before the first [section] header"
        case configparser.ParsingError():
            # Python 3.13's MultilineContinuationError keeps no list of errors.
            errors = getattr(error, "errors", None)
            errors = errors or [(getattr(error, "lineno", "?"), "")]
            lines = ", ".join(str(number) for number, _ in errors)
            return f"line {lines}: expected 'key = value' or a [section] header"
        case configparser.DuplicateOptionError():
            return (
                f"line {error.lineno}: key {error.option} appears twice in "
                f"[{error.section}]"
            )
        case configparser.DuplicateSectionError():
            return f"line {error.lineno}: section [{error.section}] appears twice"
    return type(error).__name__
