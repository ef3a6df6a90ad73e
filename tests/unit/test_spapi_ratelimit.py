"""The token-bucket arithmetic every bucket store must follow.

``CONTRACT`` is a list of checks of one store, each given a factory that builds a fresh store
on a clock the check controls. Here they run on :class:`MemoryBucketStore`;
``tests/integration/test_spapi_client.py`` runs the same list on the database (SQLite and
PostgreSQL) and Redis stores, so all three meter calls identically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from sellerbridge.channels.amazon.spapi import BucketStore, MemoryBucketStore

StoreFactory = Callable[[Callable[[], float]], BucketStore]
OP = "orders.getOrder"
SELLER = "A1SELLER"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def takes_until_empty(store: BucketStore, rate: float, burst: int, partner: str = SELLER) -> int:
    """How many tokens a store gives at once before it asks to wait."""
    taken = 0
    while store.take(partner, OP, rate, burst) == 0.0:
        taken += 1
        assert taken <= 1000, "the bucket never ran dry"
    return taken


def a_new_bucket_is_full_and_then_asks_to_wait_one_refill(make: StoreFactory) -> None:
    store = make(Clock())
    assert takes_until_empty(store, 0.5, 3) == 3
    assert store.take(SELLER, OP, 0.5, 3) == pytest.approx(2.0)


def it_refills_at_the_rate_up_to_the_burst(make: StoreFactory) -> None:
    clock = Clock()
    store = make(clock)
    takes_until_empty(store, 0.5, 3)
    clock.now += 1.0  # half a token
    assert store.take(SELLER, OP, 0.5, 3) == pytest.approx(1.0)
    clock.now += 1000.0
    assert takes_until_empty(store, 0.5, 3) == 3


def waiting_the_time_it_names_gives_a_token(make: StoreFactory) -> None:
    clock = Clock()
    store = make(clock)
    takes_until_empty(store, 0.0056, 20)
    wait = store.take(SELLER, OP, 0.0056, 20)
    assert wait == pytest.approx(1 / 0.0056)
    clock.now += wait
    assert store.take(SELLER, OP, 0.0056, 20) == 0.0
    assert store.take(SELLER, OP, 0.0056, 20) == pytest.approx(1 / 0.0056)


def a_reported_rate_replaces_the_default_from_then_on(make: StoreFactory) -> None:
    clock = Clock()
    store = make(clock)
    takes_until_empty(store, 0.5, 3)
    clock.now += 1.0  # half a token at the old rate
    store.set_rate(SELLER, OP, 10.0)
    assert store.take(SELLER, OP, 0.5, 3) == pytest.approx(0.05)  # the other half at 10/s
    clock.now += 0.05
    assert store.take(SELLER, OP, 0.5, 3) == 0.0
    assert store.take(SELLER, OP, 0.5, 3) == pytest.approx(0.1)


def draining_empties_a_full_bucket(make: StoreFactory) -> None:
    clock = Clock()
    store = make(clock)
    assert store.take(SELLER, OP, 2.0, 15) == 0.0
    store.drain(SELLER, OP)
    assert store.take(SELLER, OP, 2.0, 15) == pytest.approx(0.5)


def a_smaller_burst_caps_what_the_bucket_holds(make: StoreFactory) -> None:
    store = make(Clock())
    assert store.take(SELLER, OP, 0.5, 10) == 0.0  # 9 left
    assert takes_until_empty(store, 0.5, 2) == 2


def a_clock_stepping_back_never_refills_twice(make: StoreFactory) -> None:
    clock = Clock()
    store = make(clock)
    takes_until_empty(store, 1.0, 2)
    clock.now -= 50.0
    assert store.take(SELLER, OP, 1.0, 2) == pytest.approx(1.0)
    clock.now += 50.0 + 1.0
    assert store.take(SELLER, OP, 1.0, 2) == 0.0
    assert store.take(SELLER, OP, 1.0, 2) == pytest.approx(1.0)


def changing_a_bucket_nobody_used_changes_nothing(make: StoreFactory) -> None:
    store = make(Clock())
    store.set_rate(SELLER, OP, 100.0)
    store.drain(SELLER, OP)
    assert takes_until_empty(store, 0.5, 3) == 3
    assert store.take(SELLER, OP, 0.5, 3) == pytest.approx(2.0)


def each_partner_and_operation_has_its_own_bucket(make: StoreFactory) -> None:
    store = make(Clock())
    takes_until_empty(store, 0.5, 3)
    assert takes_until_empty(store, 0.5, 3, partner="A2OTHER") == 3
    assert store.take(SELLER, "orders.searchOrders", 0.0056, 20) == 0.0


def unusable_plans_are_refused(make: StoreFactory) -> None:
    store = make(Clock())
    with pytest.raises(ValueError, match="rate"):
        store.take(SELLER, OP, 0.0, 3)
    with pytest.raises(ValueError, match="burst"):
        store.take(SELLER, OP, 0.5, 0)
    with pytest.raises(ValueError, match="rate"):
        store.set_rate(SELLER, OP, -1.0)


CONTRACT: list[Callable[[StoreFactory], None]] = [
    a_new_bucket_is_full_and_then_asks_to_wait_one_refill,
    it_refills_at_the_rate_up_to_the_burst,
    waiting_the_time_it_names_gives_a_token,
    a_reported_rate_replaces_the_default_from_then_on,
    draining_empties_a_full_bucket,
    a_smaller_burst_caps_what_the_bucket_holds,
    a_clock_stepping_back_never_refills_twice,
    changing_a_bucket_nobody_used_changes_nothing,
    each_partner_and_operation_has_its_own_bucket,
    unusable_plans_are_refused,
]


def granted_by_racing_threads(store: BucketStore, *, threads: int, tries: int, burst: int) -> int:
    """Tokens granted when ``threads`` threads each try ``tries`` takes at the same moment."""
    barrier = threading.Barrier(threads)
    granted: list[int] = []

    def run() -> None:
        barrier.wait()
        mine = sum(store.take(SELLER, OP, 0.0001, burst) == 0.0 for _ in range(tries))
        granted.append(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(granted) == threads
    return sum(granted)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_memory_store(check: Callable[[StoreFactory], None]) -> None:
    check(lambda clock: MemoryBucketStore(clock=clock))


def test_memory_store_gives_no_more_than_the_burst_to_racing_threads() -> None:
    assert granted_by_racing_threads(MemoryBucketStore(), threads=4, tries=50, burst=7) == 7
