"""Decode a `TF FAULT` line: what went wrong (from CFSR/HFSR), and where (function and source
line of pc and lr via arm-none-eabi-addr2line). Shared by the QEMU runner and the monitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyforge import proc
from tinyforge.errors import ToolError
from tinyforge.serial.protocol import Fault

ADDR2LINE = "arm-none-eabi-addr2line"

# Configurable Fault Status Register bits (ARMv7-M / ARMv8-M ARM, B3.2.15)
CFSR_BITS: tuple[tuple[int, str, str], ...] = (
    (0, "IACCVIOL", "instruction fetch from a no-execute or protected address"),
    (1, "DACCVIOL", "data access to a protected address"),
    (3, "MUNSTKERR", "MPU fault while unstacking an exception"),
    (4, "MSTKERR", "MPU fault while stacking an exception"),
    (5, "MLSPERR", "MPU fault during lazy FP state preservation"),
    (8, "IBUSERR", "bus error on an instruction fetch"),
    (9, "PRECISERR", "precise bus error on a data access"),
    (10, "IMPRECISERR", "imprecise bus error on a data access"),
    (11, "UNSTKERR", "bus error while unstacking an exception"),
    (12, "STKERR", "bus error while stacking an exception (stack overflow?)"),
    (13, "LSPERR", "bus error during lazy FP state preservation"),
    (16, "UNDEFINSTR", "undefined instruction"),
    (17, "INVSTATE", "invalid execution state (Thumb bit clear: a bad function pointer?)"),
    (18, "INVPC", "invalid EXC_RETURN on exception return"),
    (19, "NOCP", "coprocessor (FPU/MVE) used while disabled"),
    (20, "STKOF", "stack limit overflow"),
    (24, "UNALIGNED", "unaligned access"),
    (25, "DIVBYZERO", "integer division by zero"),
)
STACKING_ERRORS = ("MSTKERR", "STKERR", "STKOF")
MMARVALID = 1 << 7
BFARVALID = 1 << 15
HFSR_BITS: tuple[tuple[int, str, str], ...] = (
    (1, "VECTTBL", "bus fault reading the vector table"),
    (30, "FORCED", "escalated from a configurable fault"),
    (31, "DEBUGEVT", "debug event (a breakpoint without a debugger?)"),
)


@dataclass(frozen=True)
class Location:
    address: int
    function: str | None
    file: str | None
    line: int | None

    def describe(self) -> str:
        where = self.function or "??"
        if self.file:
            where += f" at {self.file}:{self.line}" if self.line else f" in {self.file}"
        return f"0x{self.address:08x} {where}"


@dataclass(frozen=True)
class FaultReport:
    kind: str
    pc: int
    lr: int
    sp: int
    causes: tuple[str, ...]  # e.g. ("PRECISERR: precise bus error on a data access",)
    fault_address: int | None  # MMFAR or BFAR when valid
    pc_location: Location | None
    lr_location: Location | None

    @property
    def function(self) -> str | None:
        return self.pc_location.function if self.pc_location else None

    @property
    def source(self) -> str | None:
        loc = self.pc_location
        if loc is None or not loc.file:
            return None
        return f"{loc.file}:{loc.line}" if loc.line else loc.file

    def summary(self) -> str:
        """One line: 'BusFault in model_invoke (model.c:42): PRECISERR ... at 0xf0000000'."""
        text = self.kind
        if self.stack_overflow:
            pass  # pc and lr are not valid: the core could not stack the exception frame
        elif self.pc_location and self.pc_location.function:
            text += f" in {self.pc_location.function}"
            if self.source:
                text += f" ({self.source})"
        else:
            text += f" at pc=0x{self.pc:08x}"
        if self.causes:
            text += ": " + "; ".join(self.causes)
        if self.fault_address is not None:
            text += f" (address 0x{self.fault_address:08x})"
        if self.stack_overflow:
            text += "; the stack overflowed: raise stack_bytes in the board profile"
        return text

    @property
    def stack_overflow(self) -> bool:
        return any(c.split(":")[0] in STACKING_ERRORS for c in self.causes)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "pc": f"0x{self.pc:08x}",
            "lr": f"0x{self.lr:08x}",
            "sp": f"0x{self.sp:08x}",
            "causes": list(self.causes),
            "fault_address": None if self.fault_address is None else f"0x{self.fault_address:08x}",
            "function": self.function,
            "source": self.source,
            "caller": self.lr_location.describe() if self.lr_location else None,
            "stack_overflow": self.stack_overflow,
            "summary": self.summary(),
        }


def fault_causes(cfsr: int, hfsr: int) -> tuple[str, ...]:
    out = [f"{name}: {text}" for bit, name, text in CFSR_BITS if cfsr & (1 << bit)]
    out += [
        f"{name}: {text}"
        for bit, name, text in HFSR_BITS
        if hfsr & (1 << bit) and not (name == "FORCED" and out)
    ]
    return tuple(out)


def locate(elf: Path, addresses: list[int]) -> list[Location | None]:
    """Function, file and line of each address (None when addr2line knows nothing)."""
    if not addresses:
        return []
    res = proc.run_tool(
        [ADDR2LINE, "-f", "-C", "-e", str(elf), *[f"0x{a:x}" for a in addresses]],
        timeout=30,
        what="addr2line",
    )
    lines = res.stdout.splitlines()
    out: list[Location | None] = []
    for i, addr in enumerate(addresses):
        func = lines[2 * i].strip() if 2 * i < len(lines) else "??"
        where = lines[2 * i + 1].strip() if 2 * i + 1 < len(lines) else "??:0"
        file, _, line = where.rpartition(":")
        line_no = int(line.split()[0]) if line.split() and line.split()[0].isdigit() else None
        if func == "??" and file in ("??", ""):
            out.append(None)
            continue
        out.append(
            Location(
                addr, None if func == "??" else func, None if file in ("??", "") else file, line_no or None
            )
        )
    return out


def decode_fault(fault: Fault, elf: Path | None = None) -> FaultReport:
    """Decode a parsed TF FAULT record; with the ELF, also where it happened (needs addr2line)."""
    r = fault.registers
    pc, lr, cfsr, hfsr = r.get("pc", 0), r.get("lr", 0), r.get("cfsr", 0), r.get("hfsr", 0)
    addr = None
    if cfsr & BFARVALID:
        addr = r.get("bfar")
    elif cfsr & MMARVALID:
        addr = r.get("mmfar")
    pc_loc = lr_loc = None
    causes = fault_causes(cfsr, hfsr)
    overflow = any(c.split(":")[0] in STACKING_ERRORS for c in causes)
    if elf is not None and Path(elf).is_file() and pc != 0 and not overflow:  # else: no valid frame
        try:
            # pc is the faulting instruction; lr holds a return address (Thumb bit set): look one
            # instruction earlier so the line is the call, not the line after it
            pc_loc, lr_loc = locate(Path(elf), [pc & ~1, max((lr & ~1) - 2, 0)])
        except ToolError:
            pc_loc = lr_loc = None
    return FaultReport(
        kind=fault.kind,
        pc=pc,
        lr=lr,
        sp=r.get("sp", 0),
        causes=causes,
        fault_address=addr,
        pc_location=pc_loc,
        lr_location=lr_loc,
    )
