"""The kernel registry: (op kind, board features) -> a C kernel call with its packed arguments.

A kernel module registers a *packer* per op with `@kernel("CONV_2D", features=...)`. At code
generation, `select()` picks the best packer the board's features allow and calls it; the packer
computes everything the C kernel needs (requantization multipliers, shapes, paddings) in Python
and returns a `KernelCall`. Templates only print what a `KernelCall` holds.

C conventions (firmware/kernels/tf_kernels.h): one params struct per kernel,
`tf_<name>_params_t`, and one function `void tf_<name>(const tf_<name>_params_t *p, <args>)` whose
arguments are, in order, the `args` of the KernelCall (activation pointers, scratch).
Constant arrays (weights, bias, multipliers) are fields of the params struct pointing at
`ConstArray`s, which codegen places in flash, 16-byte aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from tinyforge.errors import UnsupportedOpError
from tinyforge.ir.graph import Graph, Op

CTYPE_NUMPY: dict[str, type] = {
    "int8_t": np.int8,
    "uint8_t": np.uint8,
    "int16_t": np.int16,
    "uint16_t": np.uint16,
    "int32_t": np.int32,
    "int64_t": np.int64,
    "float": np.float32,
}


@dataclass(frozen=True, eq=False)
class ConstArray:
    """A constant array that goes to flash. `name` is a C identifier suffix, unique per model."""

    name: str
    ctype: str  # "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "int64_t", "float"
    data: bytes  # little-endian element bytes
    align: int = 16  # placement in weights.bin (the DSP kernels need 4: word loads)

    @staticmethod
    def of(name: str, values: np.ndarray | Iterable[int], ctype: str, align: int = 16) -> ConstArray:
        np_type = CTYPE_NUMPY[ctype]
        arr: np.ndarray = np.ascontiguousarray(np.asarray(values), dtype=np_type)
        return ConstArray(name, ctype, arr.astype(arr.dtype.newbyteorder("<")).tobytes(), align)

    @property
    def count(self) -> int:
        return len(self.data) // np.dtype(CTYPE_NUMPY[self.ctype]).itemsize


# A params field value: a C integer, a float, a fixed-size int array, or a pointer to a ConstArray.
ParamValue = int | float | tuple[int, ...] | ConstArray


@dataclass(frozen=True)
class TensorArg:
    """An activation pointer argument: the arena address of tensor `tensor`."""

    tensor: int
    writable: bool  # False -> `const int8_t *`, True -> `int8_t *`
    ctype: str = "int8_t"


@dataclass(frozen=True)
class ScratchArg:
    """A pointer to the shared scratch buffer (sized by the largest `scratch_bytes`)."""


Arg = TensorArg | ScratchArg


@dataclass(frozen=True)
class KernelCall:
    function: str  # C function name, e.g. "tf_conv2d_s8"
    params_type: str  # C struct type, e.g. "tf_conv2d_s8_params_t"
    params: tuple[tuple[str, ParamValue], ...]  # struct fields in declaration order
    args: tuple[Arg, ...]  # call arguments after the params pointer
    scratch_bytes: int = 0
    macs: int = 0
    # output tensor index -> input tensor index it may overwrite (in-place safe)
    in_place: tuple[tuple[int, int], ...] = ()
    # (output, input, gap): the output may start `gap` bytes (or more) before the input and overlap
    # it: the kernel never writes over input bytes it still has to read
    overlap: tuple[tuple[int, int, int], ...] = ()
    comment: str = ""  # one line for the generated C: parameters worth reading
    widened: bool = False  # the weights are stored wider than the model's int8 (`--optimize speed`)
    # the same layer with less scratch and more instructions, for layers at the arena's peak
    leaner: KernelCall | None = None
    # (macro, bits): compiled-in variants of a kernel this call needs; a model's bits are ORed per
    # macro and passed as -Dmacro=bits to the kernel sources that read it (variant_defines), so
    # the firmware links only the variants its layers use (a source without it builds them all)
    variants: tuple[tuple[str, int], ...] = ()

    def consts(self) -> list[ConstArray]:
        return [v for _, v in self.params if isinstance(v, ConstArray)]


def variant_defines(calls: Iterable[KernelCall]) -> tuple[str, ...]:
    """`MACRO=0x..` for every variant macro the calls name, their bits ORed; sorted."""
    bits: dict[str, int] = {}
    for call in calls:
        for macro, b in call.variants:
            bits[macro] = bits.get(macro, 0) | b
    return tuple(f"{m}={bits[m]:#x}" for m in sorted(bits))


# `--optimize`: what the user lets kernel selection spend flash on (README "Optimization modes").
#   size      weights stay int8 (reordered, never widened) and no lookup tables: the image's constant
#             data is at most 1.02x the model's (weights, biases, per-channel scales)
#   balanced  (default) int8 weights like `size`; small lookup tables where they pay (ADD/SUB: 2 KB)
#   speed     conv / fully-connected weights widened to int16 where the kernels run faster with them
OPTIMIZE_MODES = ("size", "balanced", "speed")
DEFAULT_OPTIMIZE = "balanced"


@dataclass(frozen=True)
class Target:
    """What kernel selection may use: the board's features (`dsp`, `mve`), core name, and the
    user's `--optimize` choice."""

    cpu: str = "host"
    features: frozenset[str] = field(default_factory=frozenset)
    optimize: str = DEFAULT_OPTIMIZE

    def __post_init__(self) -> None:
        if self.optimize not in OPTIMIZE_MODES:
            raise ValueError(f"optimize must be one of {OPTIMIZE_MODES}, not {self.optimize!r}")

    @property
    def wide_weights(self) -> bool:
        """Kernels may widen weights to int16 in flash (`--optimize speed`)."""
        return self.optimize == "speed"

    @property
    def tables(self) -> bool:
        """Kernels may add lookup tables to flash (`balanced`, `speed`)."""
        return self.optimize != "size"


Packer = Callable[[Graph, Op, Target], KernelCall]
Accepts = Callable[[Graph, Op], "str | None"]  # None if accepted, else the reason it is not


@dataclass(frozen=True)
class KernelEntry:
    op: str
    name: str
    packer: Packer
    features: frozenset[str]
    priority: int
    accepts: Accepts | None


_REGISTRY: dict[str, list[KernelEntry]] = {}


def kernel(
    op: str,
    *,
    name: str | None = None,
    features: Iterable[str] = (),
    priority: int = 0,
    accepts: Accepts | None = None,
) -> Callable[[Packer], Packer]:
    """Register a packer for `op`. Higher priority wins among entries the target supports."""

    def deco(fn: Packer) -> Packer:
        entry = KernelEntry(op, name or fn.__name__, fn, frozenset(features), priority, accepts)
        _REGISTRY.setdefault(op, []).append(entry)
        _REGISTRY[op].sort(key=lambda e: -e.priority)
        return fn

    return deco


def _load_all() -> None:
    # Kernel modules register themselves on import; this is the one list of them.
    from tinyforge.kernels import ops  # noqa: F401


def supported_ops() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def entries(op: str) -> list[KernelEntry]:
    _load_all()
    return list(_REGISTRY.get(op, []))


_TYPE_MISMATCH = ("this kernel takes", "only int8 is supported")


def _best_reason(reasons: list[str]) -> str | None:
    """The reason worth showing: a kernel for the op's element types says more than one that only
    notes the types are not its own ("input is int16; this kernel takes int8")."""
    specific = [r for r in reasons if not any(m in r for m in _TYPE_MISMATCH)]
    chosen = specific or reasons
    return chosen[0] if chosen else None


def unsupported_reason(graph: Graph, op: Op) -> str | None:
    """None when some registered kernel accepts `op` (on the portable path), else why not."""
    cands = entries(op.kind)
    if not cands:
        return "no kernel for this operator"
    reasons = []
    for e in cands:
        if e.features:
            continue
        why = e.accepts(graph, op) if e.accepts else None
        if why is None:
            return None
        reasons.append(why)
    return _best_reason(reasons) or "no portable kernel"


def select(graph: Graph, op: Op, target: Target) -> KernelCall:
    cands = entries(op.kind)
    if not cands:
        raise UnsupportedOpError(
            f"operator {op.kind} at layer {op.index} ({op.name}) is not supported",
            hint="supported: " + ", ".join(supported_ops()),
        )
    reasons = []
    for e in cands:
        if not e.features <= target.features:
            continue
        why = e.accepts(graph, op) if e.accepts else None
        if why is not None:
            reasons.append(why)
            continue
        return e.packer(graph, op, target)
    raise UnsupportedOpError(
        f"operator {op.kind} at layer {op.index} ({op.name}) is not supported: {_best_reason(reasons) or 'no kernel for this board'}",
        hint="supported: " + ", ".join(supported_ops()),
    )
