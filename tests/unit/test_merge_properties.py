"""The laws of sync_protocol/merge.py and sync_protocol/hlc.py, checked on generated inputs.

Clocks are drawn from a few milliseconds, counters and devices so that equal clocks (the
tie-break) come up often, and values mix text (with characters beyond the BMP), ints, booleans
and null.
"""

from __future__ import annotations

from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol import hlc, merge
from sync_protocol.wire import Value

# Per test, not a global profile: loading a profile here would change every other module's tests.
fast = settings(max_examples=200, deadline=None)

Change = tuple[dict[str, Value], str]

values: st.SearchStrategy[Value] = st.one_of(
    st.text(max_size=4),
    st.sampled_from(["a", "b", "\uff21", "\U0001f600", "é"]),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.booleans(),
    st.none(),
)
clocks = st.builds(
    lambda ms, counter, device: hlc.Hlc(ms, counter, device).encode(),
    st.integers(1764172800000, 1764172800003),
    st.integers(0, 2),
    st.sampled_from(["devA", "devB", "d_9"]),
)
changes: st.SearchStrategy[Change] = st.tuples(
    st.dictionaries(st.sampled_from(["text", "topic", "deleted", "n"]), values, min_size=1, max_size=3),
    clocks,
)


def merge_all(state: merge.RecordState | None, delivered: list[Change]) -> merge.RecordState | None:
    return reduce(lambda s, change: merge.apply(s, *change), delivered, state)


@fast
@given(st.lists(changes, max_size=8), st.data())
def test_any_order_and_duplication_of_delivery_converges(sent: list[Change], data: st.DataObject) -> None:
    duplicates = data.draw(st.lists(st.sampled_from(sent), max_size=6)) if sent else []
    delivered = data.draw(st.permutations(sent + duplicates))

    assert merge_all(None, delivered) == merge_all(None, sent)


@fast
@given(st.lists(changes, max_size=8))
def test_each_field_holds_the_write_with_the_greatest_clock_then_canonical_value(sent: list[Change]) -> None:
    state = merge_all(None, sent)
    for name in {name for fields, _ in sent for name in fields}:
        writes = [(clock, merge.canonical(fields[name]), fields[name]) for fields, clock in sent if name in fields]
        clock, _, value = max(writes)
        assert state is not None
        assert state.fields[name] == value
        assert state.clocks[name] == clock


@fast
@given(st.lists(changes, max_size=6), changes)
def test_applying_a_change_again_changes_nothing(history: list[Change], change: Change) -> None:
    once = merge.apply(merge_all(None, history), *change)
    assert merge.apply(once, *change) == once
    assert merge.changed_fields(once, *change) == {}, "a repeated change alters nothing"


@fast
@given(st.lists(changes, max_size=6), st.lists(changes, max_size=6))
def test_merging_a_replica_into_itself_changes_nothing(first: list[Change], second: list[Change]) -> None:
    state = merge_all(None, first + second)
    assert merge_all(state, first + second) == state


@fast
@given(clocks, values, values)
def test_equal_clocks_break_the_tie_by_canonical_value_in_either_order(clock: str, a: Value, b: Value) -> None:
    a_then_b = merge_all(None, [({"x": a}, clock), ({"x": b}, clock)])
    b_then_a = merge_all(None, [({"x": b}, clock), ({"x": a}, clock)])

    assert a_then_b == b_then_a
    assert a_then_b is not None
    assert a_then_b.fields["x"] == max(a, b, key=merge.canonical)


@fast
@given(st.lists(changes, max_size=6), changes)
def test_changed_fields_are_exactly_the_fields_that_win(history: list[Change], change: Change) -> None:
    state = merge_all(None, history)
    fields, clock = change
    changed = merge.changed_fields(state, fields, clock)

    after = merge.apply(state, fields, clock)
    assert merge.apply(state, changed, clock) == after
    for name in fields:
        if name in changed:
            assert (after.fields[name], after.clocks[name]) == (fields[name], clock)
        else:
            assert state is not None
            assert (after.fields[name], after.clocks[name]) == (state.fields[name], state.clocks[name])


# --- HLC ---------------------------------------------------------------------------------------

devices = st.from_regex(r"[0-9A-Za-z_]{1,32}", fullmatch=True)
walls = st.integers(0, 10**12)


@fast
@given(devices, st.lists(walls, min_size=1, max_size=30))
def test_ticks_strictly_increase_whatever_the_wall_clock_does(device: str, wall_times: list[int]) -> None:
    clock = hlc.Clock(device)
    stamps = [clock.tick(wall) for wall in wall_times]

    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert all(hlc.is_valid(stamp) for stamp in stamps)


# Milliseconds a few apart and counters near both ends, so every branch of observe is taken.
near_walls = st.integers(1764172800000, 1764172800004)
remotes = st.builds(
    lambda ms, counter, device: hlc.Hlc(ms, counter, device).encode(),
    near_walls,
    st.sampled_from([0, 1, 7, hlc.MAX_COUNTER - 1, hlc.MAX_COUNTER]),
    devices,
)


def position(clock: str) -> tuple[int, int]:
    """Where a clock stands in time, whichever device issued it."""
    ms, counter, _ = hlc.parse(clock)
    return ms, counter


@fast
@given(devices, st.lists(st.tuples(near_walls, st.none() | remotes), max_size=30))
def test_observing_never_moves_the_clock_back_and_later_ticks_order_after_what_was_seen(
    device: str, events: list[tuple[int, str | None]]
) -> None:
    """Each event is a local tick (remote None) or a received clock to observe."""
    clock = hlc.Clock(device)
    for wall, remote in events:
        before = position(clock.last)
        if remote is None:
            clock.tick(wall)
        else:
            clock.observe(remote, wall)
            assert position(clock.last) > position(remote)
        assert position(clock.last) > before
    seen = [remote for _, remote in events if remote is not None]
    after = clock.tick(0)
    assert all(position(after) > position(remote) for remote in seen)


@fast
@given(
    st.tuples(walls, st.integers(0, hlc.MAX_COUNTER), devices),
    st.tuples(walls, st.integers(0, hlc.MAX_COUNTER), devices),
)
def test_encoded_clocks_sort_as_their_tuples(a: tuple[int, int, str], b: tuple[int, int, str]) -> None:
    first, second = hlc.Hlc(*a), hlc.Hlc(*b)
    assert (first.encode() < second.encode()) == (first < second)
    assert hlc.parse(first.encode()) == first
