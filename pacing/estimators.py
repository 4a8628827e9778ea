"""Learned distributions: call outcomes and ring times, talk and wrap-up durations.

Each estimator forgets with a half-life so a list whose answer rate falls through the day,
or a script change that lengthens calls, is followed within minutes; each starts from a
prior worth a few observations so a cold start is sensible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pacing.decay import DecayClock
from pacing.normal import normal_cdf_array

OUTCOMES: tuple[str, ...] = ("human", "machine", "no_answer", "busy", "failed")
HUMAN, MACHINE, NO_ANSWER, BUSY, FAILED = range(5)
OUTCOME_INDEX: dict[str, int] = {name: i for i, name in enumerate(OUTCOMES)}

# Ring times live on a one-second grid; the last bin collects everything longer.
RING_BINS = 121


def _prior_ring_shapes() -> np.ndarray:
    """Typical ring-time shapes per outcome, each a probability vector over RING_BINS."""
    seconds = np.arange(RING_BINS, dtype=float) + 0.5
    shapes = np.zeros((len(OUTCOMES), RING_BINS))

    def bump(mean: float, spread: float) -> np.ndarray:
        density = np.exp(-0.5 * ((seconds - mean) / spread) ** 2)
        return density / density.sum()

    shapes[HUMAN] = bump(8.0, 4.0)
    shapes[MACHINE] = bump(12.0, 5.0)
    # A thin uniform floor under no-answer keeps the posterior of a call still ringing
    # after every observed answer time sensible (it is then almost surely unanswered).
    shapes[NO_ANSWER] = 0.9 * bump(25.0, 2.0) + 0.1 / RING_BINS
    shapes[BUSY] = bump(2.0, 1.5)
    shapes[FAILED] = bump(1.0, 1.0)
    return shapes


class OutcomeEstimator:
    """Probability of each outcome of a dial, and the ring-time distribution of each.

    Ring time is from launch to the answer (human, machine) or to the failure (no answer,
    busy, failed). From these it derives, for a call still ringing at age `a`, the chance it
    turns into a live answer within a horizon: the posterior given its ring age.
    """

    def __init__(
        self,
        half_life: float,
        prior_live_rate: float,
        prior_machine_rate: float,
        prior_weight: float,
    ) -> None:
        self._clock = DecayClock(half_life)
        rest = 1.0 - prior_live_rate - prior_machine_rate
        prior_mix = np.array(
            [prior_live_rate, prior_machine_rate, rest * 0.7, rest * 0.2, rest * 0.1]
        )
        self._hist = _prior_ring_shapes() * (prior_mix * prior_weight)[:, None]
        self._counts = self._hist.sum(axis=1)
        self.version = 0

    def observe(self, outcome: str, ring_seconds: float, now: float) -> None:
        """Record one finished dial."""
        kind = OUTCOME_INDEX.get(outcome)
        if kind is None:
            raise ValueError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
        weight, rescale = self._clock.weight(now)
        if rescale != 1.0:
            self._hist *= rescale
            self._counts *= rescale
        bin_index = min(max(int(ring_seconds), 0), RING_BINS - 1)
        self._hist[kind, bin_index] += weight
        self._counts[kind] += weight
        self.version += 1

    def probabilities(self) -> np.ndarray:
        """Probability of each outcome, in OUTCOMES order."""
        return self._counts / self._counts.sum()

    def effective_dials(self, now: float) -> float:
        """How many dials the current estimate is worth (decayed count, prior included)."""
        return float(self._counts.sum()) / self._clock.present_weight(now)

    def live_rate_relative_variance(self, now: float) -> float:
        """Var(estimated live-answer rate) ÷ rate², from the effective number of dials."""
        p = self.live_answer_rate
        return (1.0 - p) / (p * max(self.effective_dials(now), 1.0))

    @property
    def live_answer_rate(self) -> float:
        """Share of dials answered by a person."""
        return float(self._counts[HUMAN] / self._counts.sum())

    @property
    def person_share_of_answers(self) -> float:
        """Share of answered calls (person or machine) that are people: AMD's prior."""
        answered = self._counts[HUMAN] + self._counts[MACHINE]
        return float(self._counts[HUMAN] / answered) if answered > 0 else 1.0

    def mean_human_ring_seconds(self) -> float:
        """Mean launch-to-answer time of calls a person answered."""
        row = self._hist[HUMAN]
        return float((row * (np.arange(RING_BINS) + 0.5)).sum() / row.sum())

    def human_answer_cdf(self) -> np.ndarray:
        """P(answered by a person within k+1 seconds of launch), k = 0..RING_BINS-1.

        Unconditional: includes the probability that a person answers at all.
        """
        return np.cumsum(self._hist[HUMAN]) / self._counts.sum()

    def unresolved_survival(self) -> np.ndarray:
        """P(a call is still ringing k seconds after launch), k = 0..RING_BINS-1."""
        total = self._counts.sum()
        resolved_by = np.concatenate(([0.0], np.cumsum(self._hist.sum(axis=0))[:-1]))
        return np.maximum(1.0 - resolved_by / total, 1e-12)


SHORT_TALK_SECONDS = 15.0
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class TalkEstimator:
    """Talk durations as a lognormal fitted to decayed log-moments.

    A parametric tail keeps the probability of a long call ending soon smooth even where
    few calls were seen; talk times are well described by lognormals in practice.
    """

    def __init__(self, half_life: float, prior_mean: float, prior_cv: float, weight: float):
        self._clock = DecayClock(half_life)
        sigma2 = math.log1p(prior_cv * prior_cv)
        mu = math.log(prior_mean) - sigma2 / 2.0
        self._w = weight
        self._s1 = weight * mu
        self._s2 = weight * (sigma2 + mu * mu)
        self._sum_seconds = weight * prior_mean
        self.version = 0

    def observe(self, seconds: float, now: float) -> None:
        """Record one finished talk period; very short ones are left out of the fit.

        Calls of a few seconds (a machine that slipped past AMD, an instant hang-up) would
        drag a lognormal's tail out of shape; they end before a tick matters anyway.
        """
        if seconds < SHORT_TALK_SECONDS:
            return
        weight, rescale = self._clock.weight(now)
        if rescale != 1.0:
            self._w *= rescale
            self._s1 *= rescale
            self._s2 *= rescale
            self._sum_seconds *= rescale
        log_seconds = math.log(max(seconds, 0.5))
        self._w += weight
        self._s1 += weight * log_seconds
        self._s2 += weight * log_seconds * log_seconds
        self._sum_seconds += weight * max(seconds, 0.0)
        self.version += 1

    @property
    def mu_sigma(self) -> tuple[float, float]:
        """Parameters of the fitted lognormal (of the natural log of seconds)."""
        mu = self._s1 / self._w
        variance = max(self._s2 / self._w - mu * mu, 1e-4)
        return mu, math.sqrt(variance)

    def mu_sigma_censored(self, now: float, elapsed: Sequence[float]) -> tuple[float, float]:
        """The fit with calls still in progress added as right-censored observations.

        Finished calls alone are biased short after a start (the long ones have not ended
        yet); each talking agent adds the expected log-moments of a talk known to exceed its
        elapsed time (two EM steps on the truncated normal of log seconds).
        """
        mu, sigma = self.mu_sigma
        usable = [math.log(e) for e in elapsed if e >= SHORT_TALK_SECONDS]
        if not usable:
            return mu, sigma
        scale = self._clock.present_weight(now)
        weight = self._w / scale
        s1 = self._s1 / scale
        s2 = self._s2 / scale
        for _ in range(2):
            c1 = c2 = 0.0
            for log_elapsed in usable:
                z = (log_elapsed - mu) / sigma
                tail = max(0.5 * math.erfc(z * _SQRT_HALF), 1e-300)
                hazard = math.exp(-0.5 * z * z) * _INV_SQRT_2PI / tail
                mean = mu + sigma * hazard
                variance = sigma * sigma * max(1.0 + z * hazard - hazard * hazard, 1e-6)
                c1 += mean
                c2 += variance + mean * mean
            total = weight + len(usable)
            mu = (s1 + c1) / total
            sigma = math.sqrt(max((s2 + c2) / total - mu * mu, 1e-4))
        return mu, sigma

    @property
    def mean_seconds(self) -> float:
        """Decayed sample mean of talk time."""
        return self._sum_seconds / self._w

    @staticmethod
    def cdf_grid(length: int, mu: float, sigma: float) -> np.ndarray:
        """P(talk <= k seconds) for k = 0..length-1 under a lognormal(mu, sigma)."""
        seconds = np.arange(length, dtype=float)
        seconds[0] = 1e-9
        return normal_cdf_array((np.log(seconds) - mu) / sigma)


class WrapEstimator:
    """Wrap-up durations as a decayed histogram on a one-second grid (short and bounded)."""

    BINS = 601

    def __init__(self, half_life: float, prior_mean: float, weight: float) -> None:
        self._clock = DecayClock(half_life)
        self._hist = np.zeros(self.BINS)
        low = int(prior_mean * 0.5)
        high = max(int(prior_mean * 1.5), low + 1)
        high = min(high, self.BINS - 1)
        self._hist[low:high] = weight / (high - low)
        self._sum_seconds = weight * prior_mean
        self.version = 0

    def observe(self, seconds: float, now: float) -> None:
        """Record one finished wrap-up period."""
        weight, rescale = self._clock.weight(now)
        if rescale != 1.0:
            self._hist *= rescale
            self._sum_seconds *= rescale
        self._hist[min(max(int(seconds), 0), self.BINS - 1)] += weight
        self._sum_seconds += weight * max(seconds, 0.0)
        self.version += 1

    @property
    def mean_seconds(self) -> float:
        """Decayed sample mean of wrap-up time."""
        return float(self._sum_seconds / self._hist.sum())

    def cdf_grid(self) -> np.ndarray:
        """P(wrap < k+1 seconds) for k = 0..BINS-1 (bin k holds [k, k+1))."""
        return np.cumsum(self._hist) / self._hist.sum()
