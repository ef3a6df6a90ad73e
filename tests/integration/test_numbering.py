"""Number series hand out every number once, even to processes running at the same time."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier

import pytest

from sellerbridge.core.errors import NotFound
from sellerbridge.db.engine import make_engine
from sellerbridge.db.numbering import allocate_number, allocate_numbers
from sellerbridge.db.uow import UnitOfWork

PER_PROCESS = 1000


def _allocate_many(
    url: str, barrier: Barrier, queue: multiprocessing.Queue[list[str] | str]
) -> None:
    try:
        engine = make_engine(url)
        uow = UnitOfWork(engine)
        numbers = []
        barrier.wait()  # start together, so the two processes really compete
        for _ in range(PER_PROCESS):
            with uow:
                numbers.append(allocate_number(uow.session, "customer", "default"))
                uow.commit()
        engine.dispose()
    except BaseException as error:
        queue.put(f"worker failed: {error!r}")  # tell the test at once instead of timing out
        raise
    queue.put(numbers)


@pytest.mark.slow
def test_two_processes_get_two_thousand_distinct_numbers(
    workspace: UnitOfWork, database_url: str
) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    queue: multiprocessing.Queue[list[str] | str] = spawn.Queue()
    workers = [
        spawn.Process(target=_allocate_many, args=(database_url, barrier, queue)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=300) for _ in workers]
    failures = [result for result in results if isinstance(result, str)]
    assert not failures
    assert not isinstance(results[0], str)
    assert not isinstance(results[1], str)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    numbers = results[0] + results[1]
    assert len(numbers) == 2 * PER_PROCESS
    assert len(set(numbers)) == 2 * PER_PROCESS
    # Gapless too: exactly C-000001 … C-002000 were handed out.
    assert sorted(numbers) == [f"C-{value:06d}" for value in range(1, 2 * PER_PROCESS + 1)]
    # Each process saw its own numbers rising: the series never went backwards.
    for result in results:
        assert result == sorted(result)


def test_a_rolled_back_transaction_gives_its_number_back(workspace: UnitOfWork) -> None:
    with workspace:
        assert allocate_number(workspace.session, "customer", "default") == "C-000001"
    with workspace:
        assert allocate_number(workspace.session, "customer", "default") == "C-000001"
        workspace.commit()
    with workspace:
        assert allocate_number(workspace.session, "customer", "default") == "C-000002"


def test_an_unknown_series_says_how_to_create_it(workspace: UnitOfWork) -> None:
    with workspace, pytest.raises(NotFound, match="sellerbridge init"):
        allocate_number(workspace.session, "invoice", "nope")


def test_numbers_allocated_in_bulk_continue_the_series(workspace: UnitOfWork) -> None:
    with workspace:
        assert allocate_number(workspace.session, "customer", "default") == "C-000001"
        assert allocate_numbers(workspace.session, "customer", "default", 3) == [
            "C-000002",
            "C-000003",
            "C-000004",
        ]
        assert allocate_numbers(workspace.session, "customer", "default", 0) == []
        assert allocate_number(workspace.session, "customer", "default") == "C-000005"
