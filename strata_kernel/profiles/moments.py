"""Mergeable mean and variance: Chan, Golub and LeVeque's pairwise update (numerically stable, order-free)."""

from __future__ import annotations

from strata_kernel.profiles.model import Moments


def combine(first: Moments, second: Moments) -> Moments:
    if first.n == 0:
        return second
    if second.n == 0:
        return first
    n = first.n + second.n
    delta = second.mean - first.mean
    mean = first.mean + delta * second.n / n
    m2 = first.m2 + second.m2 + delta * delta * first.n * second.n / n
    return Moments(n, mean, m2)
