"""The graph IR: an immutable, typed view of one TFLite subgraph.

`Tensor`, `Op` and `Graph` are frozen dataclasses; passes return new graphs. Constant data is kept
as `bytes` (little-endian, as in the flatbuffer) and exposed as read-only numpy arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

NUMPY_DTYPES: dict[str, type] = {
    "float32": np.float32,
    "float16": np.float16,
    "float64": np.float64,
    "int32": np.int32,
    "uint8": np.uint8,
    "int64": np.int64,
    "int16": np.int16,
    "int8": np.int8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
}


def dtype_size(dtype: str) -> int:
    np_type = NUMPY_DTYPES.get(dtype)
    if np_type is None:
        return 0
    return int(np.dtype(np_type).itemsize)


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per `axis`."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    def describe(self) -> str:
        if not self.scale:
            return "-"
        if self.per_channel:
            return f"per-channel[{len(self.scale)}] axis={self.axis}"
        return f"scale={self.scale[0]:.6g} zp={self.zero_point[0] if self.zero_point else 0}"


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quantization | None = None
    data: bytes | None = field(default=None, repr=False)
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        # A variable tensor lives in RAM even if the file gives it bytes (TFLM ignores them and
        # starts it at its zero point).
        return self.data is not None and not self.is_variable

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= max(d, 0)
        return n

    @property
    def nbytes(self) -> int:
        return self.num_elements * dtype_size(self.dtype)

    def array(self) -> np.ndarray:
        """The constant data as a read-only numpy array of this tensor's shape."""
        if self.data is None:
            raise ValueError(f"tensor {self.name!r} is not constant")
        arr: np.ndarray = np.frombuffer(self.data, dtype=NUMPY_DTYPES[self.dtype])
        if arr.size == self.num_elements:
            arr = arr.reshape(self.shape)
        return arr


def freeze_options(options: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(options))


@dataclass(frozen=True)
class Op:
    index: int
    kind: str  # builtin operator name, e.g. "CONV_2D"
    inputs: tuple[int, ...]  # tensor indices; -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version: int = 1
    name: str = ""  # a readable label: the first output tensor's name

    def with_(self, **changes: Any) -> Op:
        return replace(self, **changes)


@dataclass(frozen=True)
class Graph:
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    name: str = "main"
    description: str = ""
    # tensor index -> tensor index whose memory it shares (set by aliasing passes)
    aliases: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    # storage tensor -> (storage tensor, delta): its buffer starts `delta` bytes after that one's and
    # may overlap it (a kernel writing its output just before its input: KernelCall.overlap)
    ties: Mapping[int, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Op) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    def storage(self, index: int) -> int:
        """The tensor whose memory `index` lives in (follows alias chains)."""
        seen = 0
        while index in self.aliases:
            index = self.aliases[index]
            seen += 1
            if seen > len(self.tensors):
                raise ValueError("alias cycle")
        return index

    def activations(self) -> list[Tensor]:
        """Non-constant tensors that some op reads or writes, or that are graph inputs/outputs."""
        used: set[int] = set(self.inputs) | set(self.outputs)
        for op in self.ops:
            used.update(i for i in op.inputs if i >= 0)
            used.update(op.outputs)
        return [self.tensors[i] for i in sorted(used) if not self.tensors[i].is_constant]

    def state_tensors(self) -> list[Tensor]:
        """Variable tensors some op reads: state kept across invocations (LSTM hidden and cell
        state, SVDF activation state). A model with any is stateful."""
        used = {i for op in self.ops for i in op.inputs if i >= 0}
        return [t for t in self.tensors if t.is_variable and t.index in used]

    def with_(self, **changes: Any) -> Graph:
        return replace(self, **changes)


@dataclass(frozen=True)
class ModelInfo:
    """Whole-file facts the reader found besides the main graph."""

    version: int
    num_subgraphs: int
    description: str
    size_bytes: int  # of the file as given
    densified: tuple[int, ...] = ()  # tensors stored sparse in the file, compiled dense
