"""A built firmware image and its section sizes, read from the ELF (pyelftools, no `size` tool)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from tinyforge.errors import BuildError

# output section name -> SectionSizes field (sections from templates/linker.ld.j2)
_KIND = {
    ".isr_vector": "text",
    ".text": "text",
    ".ARM.extab": "rodata",
    ".ARM.exidx": "rodata",
    ".rodata": "rodata",
    ".tf_manifest": "rodata",
    ".tf_weights": "weights",
    ".tf_inputs": "inputs",
    ".data": "data",
    ".bss": "bss",
    ".tf_arena": "arena",
    ".stack": "stack",
}


@dataclass(frozen=True)
class SectionSizes:
    """Bytes per kind of section. Flash holds text+rodata+weights+inputs+data (its initial values);
    RAM holds data+bss+arena+stack."""

    text: int = 0
    rodata: int = 0
    weights: int = 0
    inputs: int = 0
    data: int = 0
    bss: int = 0
    arena: int = 0
    stack: int = 0

    @property
    def flash_bytes(self) -> int:
        return self.text + self.rodata + self.weights + self.inputs + self.data

    @property
    def ram_bytes(self) -> int:
        return self.data + self.bss + self.arena + self.stack

    def to_dict(self) -> dict[str, int]:
        d = asdict(self)
        d["flash_bytes"] = self.flash_bytes
        d["ram_bytes"] = self.ram_bytes
        return d


@dataclass(frozen=True)
class FirmwareImage:
    elf: Path
    bin: Path | None
    hex: Path | None
    sizes: SectionSizes


def section_sizes(elf: Path) -> SectionSizes:
    """Sizes of the allocated sections of a tinyforge ELF; unknown allocated sections count as
    rodata (flash) when they have contents, bss (RAM) otherwise."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    totals = dict.fromkeys(SectionSizes.__dataclass_fields__, 0)
    try:
        with open(elf, "rb") as f:
            for sec in ELFFile(f).iter_sections():
                if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                    continue
                kind = _KIND.get(sec.name)
                if kind is None:
                    kind = "bss" if sec["sh_type"] == "SHT_NOBITS" else "rodata"
                totals[kind] += int(sec["sh_size"])
    except (OSError, ELFError) as exc:
        raise BuildError(f"{elf}: cannot read the ELF file ({exc})", hint="rebuild the firmware") from exc
    return SectionSizes(**totals)


def symbol_address(elf: Path, name: str) -> int | None:
    """Address of a symbol in the ELF's symbol table, or None."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if isinstance(sec, SymbolTableSection):
                syms = sec.get_symbol_by_name(name)
                if syms:
                    return int(syms[0]["st_value"])
    return None
