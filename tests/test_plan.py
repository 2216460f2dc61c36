"""The layout search core: its candidate grid."""

from __future__ import annotations


def test_limited_divisors_match_brute_force() -> None:
    from napkin.parallel import divisors as _divisors

    for n in range(1, 200):
        for limit in (1, 3, 7, 16, 500):
            assert _divisors(n, limit) == [d for d in range(1, n + 1) if n % d == 0 and d <= limit]


def test_divisors_of_huge_batch() -> None:
    # 8,192 · 10^12 tokens is 10^12 sequences; listing their divisors looped 10^12 times.
    from napkin.parallel import divisors as _divisors

    assert _divisors(10**12, 64) == [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 40, 50, 64]
