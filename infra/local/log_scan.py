"""Scan function logs for what must never be in them: secrets, signatures, personal data.

Pure: the caller says what to look for (``Needle``), this finds it line by line in JSON-lines log files and
reports where, masked. A needle matches the raw line and the line's decoded JSON strings (a value escaped once or
twice, e.g. a body logged as a string inside a JSON field, still matches).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Shorter values (a sandbox's "local" credential) would match everywhere and prove nothing.
MIN_NEEDLE_LENGTH = 8


@dataclass(frozen=True)
class Needle:
    """One thing that must not appear: ``kind`` says what it is (secret, signature, email, phone, address, name)."""

    kind: str
    pattern: re.Pattern[str]
    size: int  # how long the value is: a short one is not scanned for
    # A name alone is not personal data enough to refuse; a name on the same line as its address is.
    together: re.Pattern[str] | None = None

    @classmethod
    def literal(cls, kind: str, value: str, *, ignore_case: bool = False) -> Needle:
        return cls(kind, re.compile(re.escape(value), re.IGNORECASE if ignore_case else 0), len(value))

    @classmethod
    def shape(cls, kind: str, pattern: str) -> Needle:
        """Anything of a shape only this kind has (a ``v1,<base64>`` Standard Webhooks signature)."""
        return cls(kind, re.compile(pattern), MIN_NEEDLE_LENGTH)

    @classmethod
    def phone(cls, value: str) -> Needle:
        """Any spelling of the number: ``+1 614 555 0188``, ``(614) 555-0188``, ``6145550188``."""
        digits = re.sub(r"\D", "", value)[-10:]
        spaced = r"[\s().+-]{0,3}".join(re.escape(d) for d in digits)
        # The country code may lead (+1 614 ..., 1-614-...): it is part of the number, not a digit before it.
        return cls("phone", re.compile(rf"(?<!\d)(?:\+?1[\s().-]{{0,3}})?{spaced}(?!\d)"), len(digits))

    @classmethod
    def name_with_address(cls, name: str, address_parts: Iterable[str]) -> Needle:
        parts = [re.escape(p) for p in address_parts if p]
        together = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        return cls("name+address", re.compile(re.escape(name), re.IGNORECASE), len(name), together)

    @property
    def scannable(self) -> bool:
        return self.size >= MIN_NEEDLE_LENGTH


@dataclass(frozen=True)
class Hit:
    file: str
    line: int
    kind: str
    masked: str  # the match, masked: its first two characters and its length
    field: str | None  # the JSON field it was found in (e.g. "reason", "exception"), when the line is JSON
    message: str | None  # the log line's message, when it does not hold the match

    def __str__(self) -> str:
        where = f" in {self.field!r}" if self.field else ""
        said = f" (message: {self.message!r})" if self.message else ""
        return f"{self.file}:{self.line}: {self.kind} {self.masked}{where}{said}"


def mask(value: str) -> str:
    return f"{value[:2]}…({len(value)} chars)"


def scan_lines(name: str, lines: Iterable[str], needles: Iterable[Needle]) -> list[Hit]:
    """Every needle found on every line of one log (``name`` is how the report names it)."""
    active = [needle for needle in needles if needle.scannable]
    hits = []
    for number, line in enumerate(lines, start=1):
        decoded = _decoded(line)
        for needle in active:
            found = _find(needle, line, decoded)
            if found is None:
                continue
            match, field = found
            message = decoded.get("message") if isinstance(decoded.get("message"), str) else None
            if message is not None and (needle.pattern.search(message) or len(message) > 120):
                message = None
            hits.append(Hit(name, number, needle.kind, mask(match), field, message))
    return hits


def scan_files(paths: Iterable[Path], needles: Iterable[Needle]) -> list[Hit]:
    needles = list(needles)
    hits = []
    for path in sorted(paths):
        with path.open(encoding="utf-8", errors="replace") as lines:
            hits.extend(scan_lines(path.name, lines, needles))
    return hits


def _find(needle: Needle, line: str, decoded: dict[str, Any]) -> tuple[str, str | None] | None:
    """The match and the JSON field that holds it; the raw line is searched when no field does."""
    for field, text in _strings(decoded):
        found = _match(needle, text)
        if found is not None:
            return found, field
    found = _match(needle, line)
    return (found, None) if found is not None else None


def _match(needle: Needle, text: str) -> str | None:
    match = needle.pattern.search(text)
    if match is None or (needle.together is not None and not needle.together.search(text)):
        return None
    return match.group(0)


def _decoded(line: str) -> dict[str, Any]:
    value = _json(line)
    return value if isinstance(value, dict) else {}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a decoded JSON value with its dotted path; a string that is JSON itself is opened too."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)
    elif isinstance(value, str):
        if value[:1] in "{[":  # its fields first: a hit is reported at the deepest field that holds it
            yield from _strings(_json(value), path)
        yield path, value
