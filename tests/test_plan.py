"""The layout search core: its candidate grid."""

from __future__ import annotations


def test_divisors_up_to_a_limit_match_brute_force() -> None:
    from napkin.plan import _divisors

    for n in range(1, 200):
        for limit in (1, 3, 7, 16, 500):
            assert _divisors(n, limit) == [d for d in range(1, n + 1) if n % d == 0 and d <= limit]


def test_huge_global_batch_is_searched_in_bounded_time() -> None:
    # 8,192 · 10^12 tokens is 10^12 sequences; listing their divisors looped 10^12 times.
    from napkin.plan import _divisors

    assert _divisors(10**12, 64) == [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 40, 50, 64]
