"""The distribution of excess live calls over free agents, and the call count it allows.

At a horizon h the excess is X = waiting + Σ Bern(p_i) − ready − Σ Bern(q_j): live calls
(waiting, in AMD, ringing calls that a person will answer by h) minus agents free by h
(ready now, or finishing talk and wrap-up by h). n new calls add Bin(n, π). The n-th new
call is abandoned when, at its connect time, the others already hold every free agent, so
its abandonment probability given that it is live is P(X + Bin(n−1, π) ≥ 0). That marginal
risk rises with n; the policy places calls while it stays under a threshold, which is the
Lagrangian answer to "most connects for a bounded number of abandons".

The risk is averaged over a few horizons (the quantiles of the time a new call takes to
become live). Large teams use the normal approximation with a continuity correction; small
ones the exact Poisson-binomial (small probabilities pooled into one Poisson term).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pacing.normal import normal_cdf

# Probabilities below this are pooled into a single Poisson term in the exact path.
_POOL_BELOW = 0.05
_TAIL_EPSILON = 1e-12


@dataclass(frozen=True, slots=True)
class HorizonMoments:
    """Mean, variance and new-call live probability of the excess at one horizon.

    `call_demand` is the expected live answers from ringing calls; `rate_rel_variance` the
    relative variance of the estimated answer rate, which moves all of them together (it
    dominates at a cold start, when one wrong estimate would send a burst of calls).
    """

    weight: float
    mean: float
    variance: float
    new_call_live: float
    call_demand: float = 0.0
    rate_rel_variance: float = 0.0


def normal_marginal_risk(horizons: Sequence[HorizonMoments], others: int) -> float:
    """Marginal abandonment risk of one more call when `others` new calls go with it."""
    risk = 0.0
    for h in horizons:
        new_live = others * h.new_call_live
        mean = h.mean + new_live
        demand = h.call_demand + new_live
        variance = (
            h.variance + new_live * (1.0 - h.new_call_live) + h.rate_rel_variance * demand * demand
        )
        if variance <= 1e-12:
            risk += h.weight * (1.0 if mean >= 0.0 else 0.0)
        else:
            risk += h.weight * normal_cdf((mean + 0.5) / math.sqrt(variance))
    return risk


def max_calls_normal(horizons: Sequence[HorizonMoments], threshold: float, cap: int) -> int:
    """Largest n <= cap whose n-th call has marginal risk <= threshold (normal approx)."""

    def allowed(n: int) -> bool:
        return normal_marginal_risk(horizons, n - 1) <= threshold

    if cap <= 0 or not allowed(1):
        return 0
    # Gallop up from 1 (answers are usually small next to the cap), then bisect.
    good, probe = 1, 2
    while probe < cap and allowed(probe):
        good, probe = probe, probe * 2
    bad = min(probe, cap)
    if bad == cap and allowed(cap):
        return cap
    while bad - good > 1:
        mid = (good + bad) // 2
        if allowed(mid):
            good = mid
        else:
            bad = mid
    return good


def _add_bernoulli(pmf: list[float], p: float) -> list[float]:
    """Convolve with Bernoulli(p) (adds 0 or 1)."""
    q = 1.0 - p
    out = [x * q for x in pmf]
    out.append(0.0)
    for i, x in enumerate(pmf):
        out[i + 1] += x * p
    return out


def _poisson_pmf(lam: float) -> list[float]:
    """Poisson(lam) pmf truncated where the tail is negligible."""
    term = math.exp(-lam)
    out = [term]
    remaining = 1.0 - term
    k = 0
    while remaining > _TAIL_EPSILON and term > 0.0:
        k += 1
        term *= lam / k
        out.append(term)
        remaining -= term
    return out


def _convolve(a: list[float], b: list[float]) -> list[float]:
    """Full discrete convolution of two short pmfs."""
    out = [0.0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x == 0.0:
            continue
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


@dataclass(frozen=True, slots=True)
class ExactHorizon:
    """The excess pmf at one horizon, as P(X >= m) for m from `offset` upward."""

    weight: float
    tail: list[float]  # tail[i] = P(X >= offset + i)
    offset: int
    new_call_live: float

    @classmethod
    def build(
        cls,
        weight: float,
        certain: int,
        demand: Sequence[float],
        supply: Sequence[float],
        new_call_live: float,
    ) -> ExactHorizon:
        """Exact excess at one horizon from its Bernoulli terms."""
        pmf, offset = _excess_pmf(certain, demand, supply)
        tail = [0.0] * len(pmf)
        running = 0.0
        for i in range(len(pmf) - 1, -1, -1):
            running += pmf[i]
            tail[i] = running
        return cls(weight, tail, offset, new_call_live)

    def at_least(self, m: int) -> float:
        """P(X >= m)."""
        i = m - self.offset
        if i <= 0:
            return 1.0
        if i >= len(self.tail):
            return 0.0
        return self.tail[i]


def _excess_pmf(
    certain: int, demand: Sequence[float], supply: Sequence[float]
) -> tuple[list[float], int]:
    """pmf of certain + Σ Bern(demand) − Σ Bern(supply), as (pmf, value at index 0)."""
    pmf = [1.0]
    pooled_demand = 0.0
    for p in demand:
        if p >= _POOL_BELOW:
            pmf = _add_bernoulli(pmf, min(p, 1.0))
        elif p > 0.0:
            pooled_demand += p
    if pooled_demand > 0.0:
        pmf = _convolve(pmf, _poisson_pmf(pooled_demand))
    # Free agents: build their count's pmf the same way, then subtract by reversing it.
    agents = [1.0]
    pooled_supply = 0.0
    for q in supply:
        if q >= _POOL_BELOW:
            agents = _add_bernoulli(agents, min(q, 1.0))
        elif q > 0.0:
            pooled_supply += q
    if pooled_supply > 0.0:
        agents = _convolve(agents, _poisson_pmf(pooled_supply))
    pmf = _convolve(pmf, agents[::-1])
    return pmf, certain - (len(agents) - 1)


def exact_marginal_risk(horizons: Sequence[ExactHorizon], others: int) -> float:
    """Marginal abandonment risk of one more call when `others` new calls go with it."""
    risk = 0.0
    for h in horizons:
        pi = h.new_call_live
        if others == 0 or pi <= 0.0:
            risk += h.weight * h.at_least(0)
            continue
        if pi >= 1.0:
            risk += h.weight * h.at_least(-others)
            continue
        # Σ_j Bin(others, π)(j) · P(X >= −j), the binomial pmf built by its ratio recurrence.
        q = 1.0 - pi
        term = q**others
        total = term * h.at_least(0)
        ratio = pi / q
        for j in range(1, others + 1):
            term *= ratio * (others - j + 1) / j
            total += term * h.at_least(-j)
        risk += h.weight * total
    return risk


def max_calls_exact(horizons: Sequence[ExactHorizon], threshold: float, cap: int) -> int:
    """Largest n <= cap whose n-th call has marginal risk <= threshold (exact)."""
    n = 0
    while n < cap and exact_marginal_risk(horizons, n) <= threshold:
        n += 1
    return n
