"""Confidence that means probability: how likely the top lesson is the right one.

A logistic model over features of a ranking, fitted on the development data only (StackFAQ dev at
both levels and the sample library's questions with its unanswerable ones; StackFAQ's questions also
with their right lessons taken out, so the model sees "the lesson is missing" about as often as the
sample library's own questions do: 15 for every 94) by `python -m benchmarks.fit_confidence`, which
prints the coefficients below and the calibration error (ECE) they reach. Features:

- hybrid: the top lesson's cosine z-score, the fused margin to the next lesson, the top lesson's
  lexical coverage of the question, whether the lexical and the dense tier both ranked it first
  on their own, whether the lesson holds hardly any word of the question, and its raw cosine (how
  close it is at all: a question from outside the library is far from every lesson, which the
  z-score, relative to the library, cannot show; refitted whenever the encoder changes);
- semantic only: the top lesson's cosine z-score and its z margin to the next;
- lexical only: the top lesson's coverage, and its score margin to the next (1 - second / first)
  times that coverage.

(The share of the question's words the library knows was tried and dropped: on this data it is a
property of the question, the same whether its lesson is there or not, and its fitted sign flipped.)

Hits below the first get the same model with their own features and their (negative) margin to the
top, so "Not sure" can show only lessons that are plausible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from content_index.search import Hit
    from content_index.semantic import Ranking

# Fitted by benchmarks/fit_confidence.py on development data (bias first, then one weight a feature).
HYBRID_WEIGHTS = (-5.245, 0.335, 0.816, 2.987, 0.291, -0.893, 6.973)
NO_SUPPORT = 0.1  # lexical coverage below this: hardly a word of the question is in the lesson
DENSE_WEIGHTS = (-4.439, 1.371, 0.926)
LEXICAL_WEIGHTS = (-1.995, 4.773, 7.718)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def hybrid_features(ranking: Ranking, i: int) -> list[float]:
    """Features of the i-th candidate of a fused ranking (see module doc)."""
    c = ranking.candidates
    me = c[i]
    margin = (me.fused - c[1].fused if len(c) > 1 else 3.0) if i == 0 else me.fused - c[0].fused
    agree = float(ranking.lexical_top == me.id and ranking.dense_top == me.id)
    return [me.z, min(margin, 3.0), me.coverage, agree, float(me.coverage < NO_SUPPORT), me.cosine]


def hybrid_confidence(
    ranking: Ranking, weights: Sequence[float] = HYBRID_WEIGHTS, *, limit: int | None = None
) -> list[float]:
    """Probability each candidate (in order, the first `limit`) is right; the first is the calibrated
    top-1 estimate."""
    return [_predict(weights, hybrid_features(ranking, i)) for i in _first(ranking, limit)]


def dense_features(ranking: Ranking, i: int) -> list[float]:
    """Features of the i-th lesson by cosine alone: its z-score and its z margin to the next (or top)."""
    c = ranking.candidates
    me = c[i]
    margin = (me.z - c[1].z if len(c) > 1 else 3.0) if i == 0 else me.z - c[0].z
    return [me.z, min(margin, 3.0)]


def dense_confidence(
    ranking: Ranking, weights: Sequence[float] | None = None, *, limit: int | None = None
) -> list[float]:
    """Probability each lesson (the first `limit`) of a cosine-ordered ranking is right (the semantic
    tier alone)."""
    chosen = DENSE_WEIGHTS if weights is None else weights
    return [_predict(chosen, dense_features(ranking, i)) for i in _first(ranking, limit)]


def lexical_features(hits: Sequence[Hit], i: int) -> list[float]:
    """Features of the i-th lexical hit: its coverage, and its score margin to the next (or the top)
    times that coverage: a wide margin means little when the lesson holds little of the question."""
    top = hits[0].score or 1.0
    margin = (1.0 - hits[1].score / top if len(hits) > 1 else 1.0) if i == 0 else hits[i].score / top - 1.0
    return [hits[i].confidence, margin * hits[i].confidence]


def lexical_confidence(hits: Sequence[Hit], weights: Sequence[float] = LEXICAL_WEIGHTS) -> list[float]:
    """Probability each lexical hit (in order) is right."""
    return [_predict(weights, lexical_features(hits, i)) for i in range(len(hits))]


def _first(ranking: Ranking, limit: int | None) -> range:
    """The positions of a ranking's first `limit` candidates (all of them when None)."""
    count = len(ranking.candidates)
    return range(count if limit is None else min(limit, count))


def _predict(weights: Sequence[float], features: Sequence[float]) -> float:
    return _sigmoid(weights[0] + sum(w * x for w, x in zip(weights[1:], features, strict=True)))


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 1e-2,
    steps: int = 50,
) -> np.ndarray:
    """Weights (bias first) of an L2-regularised, weighted logistic regression, by Newton's method."""
    x = np.hstack([np.ones((len(features), 1)), features])
    sw = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = l2 * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (sw * (p - labels)) + penalty @ w
        hessian = (x * (sw * p * (1 - p))[:, None]).T @ x + penalty + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def expected_calibration_error(
    probabilities: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE: over equal-width probability bins, the share-weighted gap between confidence and accuracy."""
    if not probabilities:
        return 0.0
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(correct, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() / len(p) * abs(p[inside].mean() - y[inside].mean())
    return float(total)
