"""The standard normal CDF, scalar and vectorised (numpy has no erf and scipy is not used)."""

from __future__ import annotations

import math

import numpy as np

_SQRT_HALF = math.sqrt(0.5)


def normal_cdf(z: float) -> float:
    """Φ(z) for one value."""
    return 0.5 * math.erfc(-z * _SQRT_HALF)


def normal_cdf_array(z: np.ndarray) -> np.ndarray:
    """Φ(z) elementwise, |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26)."""
    x = np.abs(z) * _SQRT_HALF
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf_abs = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf_abs)
