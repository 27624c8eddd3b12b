"""Serial bytes -> printable pieces and whole lines, without ever dropping a byte.

Whatever arrives is emitted at once as a `Piece` (so a prompt without a newline, or an echoed
keystroke, shows immediately); a piece that ends a line also carries the whole `line` text for
the protocol parser and the expectations. Bytes are decoded as UTF-8; invalid bytes and control
characters (except tab) become `\\xNN` escapes, so binary noise can neither vanish nor wreck the
terminal. Line ends are `\\n`; a `\\r` right before or after it (CRLF, LFCR) is line-end noise
and is not shown. Lines of any length pass through in pieces; only the text handed to the
matchers is capped at `match_limit` characters.
"""

from __future__ import annotations

from dataclasses import dataclass

MATCH_LIMIT = 65536


@dataclass(frozen=True)
class Piece:
    """A run of received bytes, printable. `start`: first piece of a line (print a timestamp
    prefix); `end`: the line ends here (print a newline); `line`: the whole line when `end`."""

    raw: bytes
    text: str
    start: bool
    end: bool
    time: float  # host time (time.time()) when the line's first byte arrived
    line: str | None = None


def escape_text(raw: bytes) -> str:
    """UTF-8 with `\\xNN` for invalid bytes and control characters (tab kept)."""
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else _escape_char(c) for c in text)


def _escape_char(c: str) -> str:
    n = ord(c)
    if n < 0x100:
        return f"\\x{n:02x}"
    return f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _incomplete_utf8_tail(data: bytes) -> int:
    """How many trailing bytes are the start of a UTF-8 sequence that is not finished yet."""
    for back in range(1, min(3, len(data)) + 1):
        b = data[-back]
        if b & 0xC0 == 0x80:  # continuation byte: keep looking for the lead byte
            continue
        need = 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4 if b & 0xF8 == 0xF0 else 1
        return back if need > back else 0
    return 0


class LineSplitter:
    """Stateful splitter: `feed(bytes, now)` -> pieces; `flush(now)` at the end of a stream."""

    def __init__(self, match_limit: int = MATCH_LIMIT) -> None:
        self.match_limit = match_limit
        self.bytes_in = 0
        self.lines = 0
        self._held = b""  # bytes not shown yet: an unfinished UTF-8 sequence or a trailing \r
        self._in_line = False  # some of the current line was already emitted
        self._line_time = 0.0
        self._line_text: list[str] = []
        self._line_len = 0

    def feed(self, data: bytes, now: float) -> list[Piece]:
        self.bytes_in += len(data)
        data = self._held + data
        self._held = b""
        pieces: list[Piece] = []
        pos = 0
        while True:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            pieces.append(self._emit(data[pos:nl], now, end=True))
            pos = nl + 1
        rest = data[pos:]
        keep = _incomplete_utf8_tail(rest)
        if rest[len(rest) - keep - 1 : len(rest) - keep] == b"\r":
            keep += 1  # maybe the \r of a CRLF: decide when the next byte comes
        if keep:
            rest, self._held = rest[: len(rest) - keep], rest[len(rest) - keep :]
        if rest:
            pieces.append(self._emit(rest, now, end=False))
        return pieces

    def flush(self, now: float) -> list[Piece]:
        """The end of the stream (or of a connection): emit what is held and end the line."""
        if not self._held and not self._in_line:
            return []
        data, self._held = self._held, b""
        return [self._emit(data, now, end=True)]

    def _emit(self, raw: bytes, now: float, *, end: bool) -> Piece:
        start = not self._in_line
        orig = raw
        if start:
            self._line_time = now
            self._line_text = []
            self._line_len = 0
            if raw.startswith(b"\r"):
                raw = raw[1:]  # the \r of an LFCR line end
        shown = raw[:-1] if end and raw.endswith(b"\r") else raw
        text = escape_text(shown)
        if self._line_len < self.match_limit:
            part = text[: self.match_limit - self._line_len]
            self._line_text.append(part)
            self._line_len += len(part)
        line = None
        if end:
            line = "".join(self._line_text)
            self._line_text = []
            self._in_line = False
            self.lines += 1
        else:
            self._in_line = True
        return Piece(orig, text, start, end, self._line_time, line)
