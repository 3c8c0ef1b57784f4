"""``wsgi:app`` with a profiler, for ``bench/deadline_rush.py --profile``: each gunicorn worker keeps one
cProfile (CPU time, not wall: the machine is shared) per request type (method and path with numbers as ``<id>``) and writes it to
``$RUSH_PROFILE_DIR/<type>.<pid>.prof`` every 10 requests and at exit.  Read with
``python -m pstats`` or ``bench/deadline_rush.py --show-profile DIR``.  Production never imports this."""
from __future__ import annotations

import atexit
import cProfile
import os
import re
import time
from pathlib import Path

from wsgi import app as _app

OUT = Path(os.environ["RUSH_PROFILE_DIR"])
OUT.mkdir(parents=True, exist_ok=True)
_profiles: dict[str, list] = {}


def _name(environ) -> str:
    path = re.sub(r"/\d+", "/<id>", environ.get("PATH_INFO", ""))
    return f"{environ.get('REQUEST_METHOD')} {path}"


def _dump(name: str, profile: cProfile.Profile) -> None:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    profile.dump_stats(str(OUT / f"{safe}.{os.getpid()}.prof"))


def app(environ, start_response):
    name = _name(environ)
    entry = _profiles.setdefault(name, [cProfile.Profile(time.process_time), 0])  # CPU time: the machine is shared
    entry[0].enable()
    try:
        return list(_app(environ, start_response))
    finally:
        entry[0].disable()
        entry[1] += 1
        if entry[1] % 10 == 0:
            _dump(name, entry[0])


@atexit.register
def _dump_all() -> None:
    for name, (profile, _count) in _profiles.items():
        _dump(name, profile)
