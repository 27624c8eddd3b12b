"""The host link: framed messages between `tinyforge test --port` and a firmware that serves it
(the harness after its run; firmware/bsp/tf_link.c is the board side). The console keeps carrying
the text protocol (serial/protocol.py); frames sit between its lines and are told apart by a
non-ASCII magic. A frame, integers little-endian:

    0xA5 0x5A | type (u8) | length (u32) | payload (length bytes) | CRC-32 (u32)

CRC-32/ISO-HDLC (zlib.crc32) over type, length and payload. Messages:

    host -> board   HELLO  (empty)                        -> INFO
                    INFER  u32 index, one input record    -> RESULT
                    END    (empty)                        -> BYE (a second later the records run again)
    board -> host   INFO   u8 version, u8 inputs, u8 outputs, u8 0, u32 record bytes, u32 tick Hz,
                           u32 bytes of each output, 16 chars of the model's sha256, board name
                    RESULT u32 index, i32 status, u64 ticks, every output back to back
                    ERROR  u8 code, u32 detail
                    BYE    (empty)

A lone 0x7F between frames (AN3155's bootloader sync, as `tinyforge flash` sends it) makes the
firmware reset the chip, so a board serving the link can always be flashed again.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = b"\xa5\x5a"
HEADER = struct.Struct("<BI")  # type, length (after the magic)
CRC = struct.Struct("<I")
MAX_LENGTH = 1 << 24  # a longer announced length is noise, not a frame

HELLO, INFER, END = 0x01, 0x02, 0x03
INFO, RESULT, BYE, ERROR = 0x81, 0x82, 0x83, 0xEE
NAMES = {
    HELLO: "HELLO",
    INFER: "INFER",
    END: "END",
    INFO: "INFO",
    RESULT: "RESULT",
    BYE: "BYE",
    ERROR: "ERROR",
}

ERROR_CODES = {
    1: "a frame arrived with a bad CRC",
    2: "a frame was longer than the firmware's buffer",
    3: "the firmware does not know that message",
    4: "the input record has the wrong size",
}

PROTOCOL_VERSION = 1


def encode(kind: int, payload: bytes = b"") -> bytes:
    head = HEADER.pack(kind, len(payload))
    return MAGIC + head + payload + CRC.pack(zlib.crc32(head + payload))


def infer(index: int, record: bytes) -> bytes:
    return encode(INFER, struct.pack("<I", index) + record)


@dataclass(frozen=True)
class Frame:
    kind: int
    payload: bytes

    @property
    def name(self) -> str:
        return NAMES.get(self.kind, f"0x{self.kind:02x}")


@dataclass(frozen=True)
class BadFrame:
    """Something that started like a frame but whose CRC did not match."""

    kind: int
    length: int


class FrameReader:
    """Bytes in (any chunking), frames and the text between them out. `feed()` returns the frames
    (and bad frames) completed by the chunk; `take_text()` the bytes that were not frames."""

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._buf = bytearray()
        self._text = bytearray()

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        self._buf += data
        out: list[Frame | BadFrame] = []
        while True:
            at = self._buf.find(MAGIC)
            if at < 0:
                keep = 1 if self._buf.endswith(MAGIC[:1]) else 0  # maybe the first magic byte
                self._text += self._buf[: len(self._buf) - keep]
                del self._buf[: len(self._buf) - keep]
                return out
            self._text += self._buf[:at]
            del self._buf[:at]
            if len(self._buf) < len(MAGIC) + HEADER.size:
                return out
            kind, length = HEADER.unpack_from(self._buf, len(MAGIC))
            if length > self.max_length:
                self._text += self._buf[:1]  # not a frame: the magic was noise
                del self._buf[:1]
                continue
            end = len(MAGIC) + HEADER.size + length + CRC.size
            if len(self._buf) < end:
                return out
            body = bytes(self._buf[len(MAGIC) : end - CRC.size])
            (crc,) = CRC.unpack_from(self._buf, end - CRC.size)
            if crc == zlib.crc32(body):
                out.append(Frame(kind, body[HEADER.size :]))
                del self._buf[:end]
            else:
                out.append(BadFrame(kind, length))
                self._text += self._buf[:1]  # resynchronise just after this magic
                del self._buf[:1]

    def take_text(self) -> bytes:
        text = bytes(self._text)
        self._text.clear()
        return text


class LinkProtocolError(ValueError):
    """A well-framed message whose payload does not hold what its type needs."""


@dataclass(frozen=True)
class Info:
    version: int
    inputs: int
    record_bytes: int
    tick_hz: int
    output_bytes: tuple[int, ...]
    model: str  # the first 16 hex digits of the model's sha256
    board: str


def parse_info(payload: bytes) -> Info:
    if len(payload) < 12:
        raise LinkProtocolError(f"INFO of {len(payload)} bytes (at least 12 expected)")
    version, n_in, n_out, _, record_bytes, tick_hz = struct.unpack_from("<BBBBII", payload)
    rest = payload[12:]
    if len(rest) < 4 * n_out + 16:
        raise LinkProtocolError(f"INFO too short for {n_out} outputs")
    outs = struct.unpack_from(f"<{n_out}I", rest)
    rest = rest[4 * n_out :]
    return Info(
        version=version,
        inputs=n_in,
        record_bytes=record_bytes,
        tick_hz=tick_hz,
        output_bytes=tuple(outs),
        model=rest[:16].decode("ascii", "replace"),
        board=rest[16:].decode("ascii", "replace"),
    )


def encode_info(info: Info) -> bytes:
    """The INFO payload (the board side; for tests and simulators)."""
    return (
        struct.pack(
            "<BBBBII", info.version, info.inputs, len(info.output_bytes), 0, info.record_bytes, info.tick_hz
        )
        + struct.pack(f"<{len(info.output_bytes)}I", *info.output_bytes)
        + info.model.encode("ascii")[:16].ljust(16, b"0")
        + info.board.encode("ascii")
    )


@dataclass(frozen=True)
class Result:
    index: int
    status: int  # model_invoke's return value (0: ok)
    ticks: int
    outputs: tuple[bytes, ...]


def parse_result(payload: bytes, output_bytes: tuple[int, ...]) -> Result:
    need = 16 + sum(output_bytes)
    if len(payload) != need:
        raise LinkProtocolError(f"RESULT of {len(payload)} bytes ({need} expected)")
    index, status, ticks = struct.unpack_from("<IiQ", payload)
    outs = []
    pos = 16
    for n in output_bytes:
        outs.append(bytes(payload[pos : pos + n]))
        pos += n
    return Result(index, status, ticks, tuple(outs))


def encode_result(result: Result) -> bytes:
    return struct.pack("<IiQ", result.index, result.status, result.ticks) + b"".join(result.outputs)


def parse_error(payload: bytes) -> tuple[int, int]:
    if len(payload) != 5:
        raise LinkProtocolError(f"ERROR of {len(payload)} bytes (5 expected)")
    code, detail = struct.unpack("<BI", payload)
    return code, detail


def describe_error(payload: bytes) -> str:
    try:
        code, detail = parse_error(payload)
    except LinkProtocolError as exc:
        return str(exc)
    what = ERROR_CODES.get(code, f"error code {code}")
    if code == 4:
        return f"{what} (it takes {detail - 4} bytes)"
    if code == 2:
        return f"{what} (announced {detail} bytes)"
    return what
