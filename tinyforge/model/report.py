"""How much the int8 model differs from the float one, measured where it matters: the int8 model
runs in the `tflite_micro` reference interpreter (what the device runs; model/reference.py
`run_tflm`), sample by sample.

Metrics per output, over N evaluation samples (float outputs f, dequantized int8 outputs q):
  cosine          mean over samples of  f.q / (|f| |q|)   (1 when both are zero, 0 when one is)
  rmse            sqrt(mean((f - q)^2)) over all elements
  max_abs_error   max |f - q| over all elements
  top1_agreement  share of samples whose argmax agrees (classifier outputs only: a softmax /
                  logistic output, or any output when labels are given)
With labels (integer classes, output 0): accuracy of the float and of the int8 model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tinyforge.errors import ModelError, UsageError


@dataclass(frozen=True)
class OutputMetrics:
    name: str
    cosine: float
    rmse: float
    max_abs_error: float
    top1_agreement: float | None  # None: not a classifier output


@dataclass(frozen=True)
class AccuracyReport:
    samples: int
    data: str  # where the evaluation samples came from ("synthetic" for random inputs)
    outputs: tuple[OutputMetrics, ...]
    float_accuracy: float | None = None
    int8_accuracy: float | None = None
    labels: str | None = None
    interpreter: str = "tflite_micro"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cosine_per_sample(f: np.ndarray, q: np.ndarray) -> np.ndarray:
    f2 = f.reshape(f.shape[0], -1).astype(np.float64)
    q2 = q.reshape(q.shape[0], -1).astype(np.float64)
    nf = np.linalg.norm(f2, axis=1)
    nq = np.linalg.norm(q2, axis=1)
    dot = np.sum(f2 * q2, axis=1)
    both_zero = (nf == 0) & (nq == 0)
    denom = np.where(nf * nq == 0, 1.0, nf * nq)
    cos = np.where(nf * nq == 0, 0.0, dot / denom)
    return np.where(both_zero, 1.0, cos)


def compare(
    float_outputs: Sequence[np.ndarray],
    int8_outputs: Sequence[np.ndarray],
    names: Sequence[str],
    *,
    data: str,
    classifier: Sequence[bool],
    labels: np.ndarray | None = None,
    labels_source: str | None = None,
) -> AccuracyReport:
    """The report for float vs int8 outputs of the same samples."""
    if len(float_outputs) != len(int8_outputs):
        raise ModelError(
            f"the float model has {len(float_outputs)} outputs, the int8 model {len(int8_outputs)}"
        )
    metrics = []
    for k, (f, q) in enumerate(zip(float_outputs, int8_outputs, strict=True)):
        if f.shape != q.shape:
            if f.size != q.size:
                raise ModelError(f"output {k}: float shape {f.shape}, int8 shape {q.shape}")
            q = q.reshape(f.shape)
        f64, q64 = f.astype(np.float64), q.astype(np.float64)
        diff = f64 - q64
        top1 = None
        if classifier[k] or (labels is not None and k == 0):
            top1 = float(np.mean(_argmax(f64) == _argmax(q64)))
        metrics.append(
            OutputMetrics(
                name=names[k],
                cosine=float(np.mean(_cosine_per_sample(f64, q64))),
                rmse=float(np.sqrt(np.mean(diff**2))),
                max_abs_error=float(np.max(np.abs(diff))),
                top1_agreement=top1,
            )
        )
    fa = ia = None
    if labels is not None:
        f0 = float_outputs[0]
        if f0.reshape(f0.shape[0], -1).shape[1] < 2:
            raise UsageError("--labels given, but output 0 is not a classifier output (one value per sample)")
        n_classes = f0.reshape(f0.shape[0], -1).shape[1]
        if labels.min() < 0 or labels.max() >= n_classes:
            raise UsageError(
                f"--labels {labels_source}: labels range {labels.min()}..{labels.max()}, "
                f"output 0 has {n_classes} classes"
            )
        fa = float(np.mean(_argmax(float_outputs[0]) == labels))
        ia = float(np.mean(_argmax(int8_outputs[0]) == labels))
    return AccuracyReport(
        samples=int(float_outputs[0].shape[0]),
        data=data,
        outputs=tuple(metrics),
        float_accuracy=fa,
        int8_accuracy=ia,
        labels=labels_source,
    )


def _argmax(x: np.ndarray) -> np.ndarray:
    return np.argmax(x.reshape(x.shape[0], -1), axis=1)
