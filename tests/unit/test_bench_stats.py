"""The statistics bench 9's sync ratio rests on (bench/report.py, bench/push_probe.py): a p99
compared at one sample count on both sides, and idle syncs taken between drains too."""

from __future__ import annotations

from bench.push_probe import DRAINING, IDLE, POSTING, QUIET, classify
from bench.report import percentile, percentile_at

MS = 1_000_000


def test_a_side_at_the_count_keeps_its_own_p99() -> None:
    values = [float(v) for v in range(55)]
    assert percentile_at(values, 99, 55) == percentile(values, 99) == 54.0
    assert percentile_at(values, 99, 200) == 54.0  # fewer than n: all of them


def test_a_larger_side_is_taken_at_the_smaller_count() -> None:
    # Over 1,000 evenly spread values the p99 is 989; over 20 of them it is their slowest, whose
    # median is near the 0.5 ** (1 / 20) = 96.6% point: the statistic a 20-sync side shows.
    values = [float(v) for v in range(1000)]
    assert percentile(values, 99) == 989.0
    assert 950 < percentile_at(values, 99, 20) < 980
    assert percentile_at(values, 99, 20) == percentile_at(values, 99, 20)  # a fixed seed


def test_syncs_are_filed_by_what_they_overlapped() -> None:
    posts = [(100 * MS, 110 * MS), (300 * MS, 310 * MS)]
    drains = [(110 * MS, 150 * MS), (310 * MS, 350 * MS)]
    quiet = [(200 * MS, 300 * MS)]
    probes = [
        ("", 10 * MS, 12 * MS),  # before the first message: idle
        ("", 105 * MS, 111 * MS),  # overlaps a POST
        ("", 140 * MS, 152 * MS),  # overlaps a drain
        ("", 160 * MS, 161 * MS),  # between, the followers not yet quiet
        ("", 250 * MS, 253 * MS),  # inside a quiet stretch: idle too
        ("", 299 * MS, 302 * MS),  # a quiet stretch's end and a POST: the POST's
    ]
    rtts = classify(probes, posts, drains, quiet)
    assert rtts[IDLE] == [2.0]
    assert rtts[POSTING] == [6.0, 3.0]
    assert rtts[DRAINING] == [12.0]
    assert rtts[QUIET] == [3.0]
    assert rtts["between"] == [1.0]
