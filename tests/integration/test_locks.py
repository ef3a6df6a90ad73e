"""Locks that keep a job from running twice, and that a crashed holder gives back."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine

from sellerbridge.db.locks import LockTaken, exclusive

HOLD = """
import sys, time
from sellerbridge.db.engine import make_engine
from sellerbridge.db.locks import exclusive
with exclusive(make_engine(sys.argv[1]), "job"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_holder_is_refused_with_the_message_given(engine: Engine) -> None:
    with exclusive(engine, "job"):
        with (
            pytest.raises(LockTaken, match="The job runs already"),
            exclusive(engine, "job", busy="The job runs already."),
        ):
            pass
        with exclusive(engine, "another job"):
            pass  # other names are independent
    with exclusive(engine, "job"):
        pass  # given back at the end of the block


def test_a_killed_holder_gives_the_lock_back(engine: Engine, database_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, database_url], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(LockTaken), exclusive(engine, "job"):
                pass
        finally:
            holder.kill()
    deadline = time.monotonic() + 10  # the server notices the dropped connection
    while True:
        try:
            with exclusive(engine, "job"):
                return
        except LockTaken:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
