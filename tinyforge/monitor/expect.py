"""CI expectations: `--expect` patterns that must all appear, in order; `--fail` patterns that end
the run at once; a timeout. Each finished run gets a one-line summary of what was and was not seen.

Patterns are Python regular expressions searched in each line (`re.search`). A line that matches
a `--fail` pattern fails even if it also matches the next `--expect` pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tinyforge.errors import UsageError

PASS, FAIL, TIMEOUT, STOPPED = "pass", "fail", "timeout", "stopped"
_QUOTE_MAX = 80


@dataclass(frozen=True)
class Seen:
    pattern: str
    line_number: int  # 1-based count of device lines since the monitor started


@dataclass(frozen=True)
class Verdict:
    """How the run ended. `exit_code` 0 when every expectation was met (or none was asked for)."""

    status: str  # pass | fail | timeout | stopped
    exit_code: int
    summary: str
    seen: tuple[Seen, ...] = ()
    missing: tuple[str, ...] = ()
    failed_on: str | None = None


def compile_patterns(patterns: Sequence[str], option: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise UsageError(
                f"{option} {p!r} is not a valid regular expression: {exc}",
                hint="patterns are Python regexes; escape special characters like ( [ . * with a backslash",
            ) from None
    return tuple(out)


def _quote(text: str) -> str:
    text = text if len(text) <= _QUOTE_MAX else text[: _QUOTE_MAX - 3] + "..."
    return repr(text)


class Expectations:
    """Feed device lines; `feed` returns a Verdict once the run is decided."""

    def __init__(self, expect: Sequence[str] = (), fail: Sequence[str] = ()) -> None:
        self._expect = compile_patterns(expect, "--expect")
        self._fail = compile_patterns(fail, "--fail")
        self._seen: list[Seen] = []

    @property
    def active(self) -> bool:
        """True when there is something to wait for (so the run can pass on its own)."""
        return bool(self._expect)

    @property
    def satisfied(self) -> bool:
        return len(self._seen) == len(self._expect)

    def feed(self, line: str, line_number: int) -> Verdict | None:
        for pat in self._fail:
            if pat.search(line):
                return self._verdict(
                    FAIL,
                    1,
                    f"FAIL: line {line_number} matched --fail {pat.pattern!r}: {_quote(line)}",
                    failed_on=line,
                )
        if self._expect and not self.satisfied:
            pat = self._expect[len(self._seen)]
            if pat.search(line):
                self._seen.append(Seen(pat.pattern, line_number))
                if self.satisfied:
                    return self._verdict(PASS, 0, "PASS")
        return None

    def timeout(self, seconds: float) -> Verdict:
        if not self.active:
            return self._verdict(PASS, 0, f"PASS: no failure within {seconds:g} s")
        return self._verdict(TIMEOUT, 1, f"TIMEOUT after {seconds:g} s")

    def stopped(self, reason: str, exit_code: int | None = None) -> Verdict:
        """The run ended for another reason (quit key, port gone for good, Ctrl-C)."""
        code = exit_code if exit_code is not None else (1 if self.active and not self.satisfied else 0)
        return self._verdict(STOPPED, code, f"STOPPED ({reason})")

    def _verdict(self, status: str, code: int, head: str, failed_on: str | None = None) -> Verdict:
        missing = tuple(p.pattern for p in self._expect[len(self._seen) :])
        parts = [head]
        if self._seen:
            parts.append("seen " + ", ".join(f"{s.pattern!r} (line {s.line_number})" for s in self._seen))
        if missing:
            parts.append("not seen " + ", ".join(repr(m) for m in missing))
        return Verdict(status, code, "; ".join(parts), tuple(self._seen), missing, failed_on)
