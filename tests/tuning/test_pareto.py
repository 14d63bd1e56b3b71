"""Noise-aware Pareto fronts (ties, noise) and hypervolumes."""

from __future__ import annotations

import random

import pytest

from cknowledge.tuning.pareto import dominates, hypervolume, pareto_front, reference_point


def test_without_noise_it_is_the_classic_front() -> None:
    pts = [[1, 5], [2, 3], [3, 4], [4, 1], [5, 5], [2, 3]]
    # [3,4] is dominated by [2,3]; [5,5] by all; the two [2,3] tie and both stay
    assert pareto_front(pts) == [0, 1, 3, 5]
    assert dominates([2, 3], [3, 4]) and not dominates([2, 3], [2, 3])
    assert not dominates([1, 5], [4, 1]) and not dominates([4, 1], [1, 5])


def test_equal_in_one_objective_better_in_the_other() -> None:
    # same size, faster: dominated without noise ...
    assert pareto_front([[1.0, 100], [1.2, 100]]) == [0]
    # ... but not when the time difference is inside the confidence intervals
    assert pareto_front([[1.0, 100], [1.2, 100]], [[0.15, None], [0.1, None]]) == [0, 1]
    # the margin is the sum of both half-widths
    assert pareto_front([[1.0, 100], [1.2, 100]], [[0.05, 0], [0.1, 0]]) == [0]
    assert dominates([1.0, 100], [1.2, 100], [0.05, 0], [0.1, 0])
    assert not dominates([1.0, 100], [1.2, 100], [0.1, 0], [0.1, 0])


def test_a_noiseless_objective_counts_any_improvement() -> None:
    # equal times within noise; size smaller by one byte (no noise): it dominates
    means = [[1.00, 100], [1.01, 101]]
    halfs = [[0.05, None], [0.05, None]]
    assert pareto_front(means, halfs) == [0]
    # a point worse in one objective is never dominated, whatever the noise
    assert pareto_front([[1.00, 100], [0.99, 101]], halfs) == [0, 1]


def test_noise_keeps_near_ties_on_the_front() -> None:
    means = [[1.0, 10], [1.02, 10], [1.5, 10], [0.5, 20], [0.52, 20.5]]
    halfs = [[0.03, 0], [0.03, 0], [0.03, 0], [0.01, 0], [0.01, 0]]
    # 1.02 vs 1.0: gap 0.02 < 0.06 -> stays; 1.5 is 0.5 worse -> dominated;
    # [0.52, 20.5] is dominated by [0.5, 20] through the noiseless second objective
    assert pareto_front(means, halfs) == [0, 1, 3]


def test_the_front_matches_a_brute_force_check() -> None:
    rng = random.Random(5)
    means = [[rng.randint(0, 30) / 10, rng.randint(0, 30) / 10, rng.random()] for _ in range(300)]
    halfs = [[rng.choice([0, 0.05, 0.2]), None, rng.random() / 20] for _ in range(300)]
    front = pareto_front(means, halfs)
    brute = [i for i in range(300)
             if not any(dominates(means[j], means[i], halfs[j], halfs[i]) for j in range(300))]
    assert front == brute and front


def test_hypervolume_2d_by_hand() -> None:
    # points (1,3), (2,2), (3,1) up to (4,4): staircase area 3 + 2 + 1 = 6
    assert hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]) == pytest.approx(6.0)
    # a dominated point and one outside the box add nothing
    assert hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [5, 0]], [4, 4]) == pytest.approx(6.0)
    assert hypervolume([], [1, 1]) == 0.0
    assert hypervolume([[0, 0]], [2, 3]) == pytest.approx(6.0)


def test_hypervolume_3d_by_hand() -> None:
    # two boxes from (0,0,0) to (2,1,1) and to (1,2,1) (ref 2,2,1): union = 2 + 2 - 1 = 3
    assert hypervolume([[0, 1, 0], [1, 0, 0]], [2, 2, 1]) == pytest.approx(3.0)
    assert hypervolume([[0, 0, 0]], [1, 2, 3]) == pytest.approx(6.0)
    # against a Monte Carlo estimate
    rng = random.Random(1)
    pts = [[rng.random(), rng.random(), rng.random()] for _ in range(15)]
    hits = 0
    for _ in range(40000):
        q = [rng.random(), rng.random(), rng.random()]
        hits += any(all(p[k] <= q[k] for k in range(3)) for p in pts)
    assert hypervolume(pts, [1, 1, 1]) == pytest.approx(hits / 40000, abs=0.01)


def test_reference_point() -> None:
    assert reference_point([[1.0, 100], [2.0, 50]]) == pytest.approx([2.2, 110])
    assert reference_point([[0.0, -5.0], [0.0, -10.0]]) == pytest.approx([1.0, -4.5])
