"""``wsgi:app`` as the deadline rush serves it (``bench/deadline_rush.py``): the production app, plus a
response header ``X-Rush-Cpu-Ms`` giving the CPU time the gunicorn worker spent on the request
(``time.process_time``: its own and its threads', e.g. argon2's), so the report can separate a
request's own cost from the time it queued on a shared machine.  With ``RUSH_PROFILE_DIR`` set
(``--profile``) each worker also keeps one cProfile (CPU time, not wall) per request type (method
and path, numbers as ``<id>``) and writes it to ``$RUSH_PROFILE_DIR/<type>.<pid>.prof`` every 10
requests and at exit; ``bench/deadline_rush.py --show-profile DIR`` prints them.  Production never
imports this module."""
from __future__ import annotations

import atexit
import cProfile
import os
import re
import time
from pathlib import Path

from wsgi import app as _app

PROFILE_DIR = Path(os.environ["RUSH_PROFILE_DIR"]) if os.environ.get("RUSH_PROFILE_DIR") else None
_profiles: dict[str, list] = {}


def _name(environ) -> str:
    path = re.sub(r"/\d+", "/<id>", environ.get("PATH_INFO", ""))
    return f"{environ.get('REQUEST_METHOD')} {path}"


def _dump(name: str, profile: cProfile.Profile) -> None:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    profile.dump_stats(str(PROFILE_DIR / f"{safe}.{os.getpid()}.prof"))


def app(environ, start_response):
    begin = time.process_time()
    entry = None
    if PROFILE_DIR is not None:
        entry = _profiles.setdefault(_name(environ), [cProfile.Profile(time.process_time), 0])
        entry[0].enable()
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["args"] = (status, headers, exc_info)
        return lambda data: None  # the body is returned below, never written through this

    try:
        result = _app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    finally:
        if entry is not None:
            entry[0].disable()
            entry[1] += 1
            if entry[1] % 10 == 0:
                _dump(_name(environ), entry[0])
    status, headers, exc_info = captured["args"]
    cpu_ms = (time.process_time() - begin) * 1000
    start_response(status, list(headers) + [("X-Rush-Cpu-Ms", f"{cpu_ms:.1f}")], exc_info)
    return [body]


if PROFILE_DIR is not None:
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)

    @atexit.register
    def _dump_all() -> None:
        for name, (profile, _count) in _profiles.items():
            _dump(name, profile)
