"""``make run`` starts its worker again when it dies, with a backoff that grows while it keeps
dying, and says so on the console."""
from __future__ import annotations

import signal
import sys
import time

from voucher.devserver import Supervised


def _run_until(sup: Supervised, predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        sup.check()
        time.sleep(0.01)


def test_a_process_that_exits_is_restarted_with_a_growing_backoff():
    lines: list[str] = []
    sup = Supervised("worker", [sys.executable, "-c", "import sys; sys.exit(3)"], min_backoff=0.05, max_backoff=0.2,
                     log=lines.append)
    sup.start()
    _run_until(sup, lambda: sup.restarts >= 3)
    exits = [line for line in lines if "exited with code 3" in line]
    assert len(exits) >= 3
    assert "restarting in 0.05 s" in exits[0] and "restarting in 0.1 s" in exits[1] and "restarting in 0.2 s" in exits[2]
    assert any("worker restarted" in line for line in lines)
    sup.wait(timeout=5)


def test_a_worker_killed_with_sigkill_is_started_again():
    lines: list[str] = []
    sup = Supervised("worker", [sys.executable, "-c", "import time; time.sleep(60)"], min_backoff=0.05,
                     log=lines.append)
    sup.start()
    first = sup.process.pid
    sup.process.send_signal(signal.SIGKILL)
    _run_until(sup, lambda: sup.restarts == 1)
    try:
        assert sup.process.pid != first and sup.poll() is None  # a new one is running
        assert f"exited with code {-signal.SIGKILL}" in lines[0]
    finally:
        sup.kill()
        sup.wait(timeout=5)
