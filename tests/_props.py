"""What the property tests share: hypothesis settings that make a run reproducible and fast to
report, and the TFLite enum values the op builders take."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}  # fused activation function
SAME, VALID = 0, 1  # padding


def fixed(max_examples: int) -> settings:
    """`max_examples` derandomized examples, no example database, no deadline, and no shrinking:
    a failing example is reported as generated, in seconds rather than minutes."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
