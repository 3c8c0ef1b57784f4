"""gunicorn's settings, read from the working directory (``gunicorn -k sync -w 2 wsgi:app`` in the
repository, as README's production commands and ``make run`` start it).  Command-line options
override what is set here."""
from __future__ import annotations

import sys


def post_worker_init(worker) -> None:
    """Warm each worker before it accepts a request (``voucher.warmup``): otherwise its first users
    pay for the ORM's mapper set-up and the template compilation."""
    from flask import Flask

    from voucher.warmup import warm_web_process

    app = worker.wsgi if isinstance(worker.wsgi, Flask) else getattr(sys.modules.get("wsgi"), "app", None)
    if isinstance(app, Flask):
        warm_web_process(app)
