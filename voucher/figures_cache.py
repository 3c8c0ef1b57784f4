"""Start-page figures kept in Redis until the data changes (issue 15).

Counting the review queue, the chart of statuses and the payable items reads every row of tables that
grow all year; a start page asks for them on every visit, and they change only when something is
recorded.  Every recorded change is audited (the house rule: each state change and each fund-ledger
entry writes an audit event, linked into the chain when its transaction commits), so the head of the
audit chain names the state of the data.  A figure is kept under that head and the local day: the next
commit moves the head, so no figure outlives the change it would miss, and the day moves deadline
figures on at midnight.

The head is read *before* computing.  A figure computed while another transaction commits is stored
under the older head, which no request asks for once the commit is visible; so a request never gets a
figure older than the data it could read itself.  Redis is shared by every web host, so the first
request after a change computes and the others read.

Off (computed every time) when ``START_PAGE_CACHE_SECONDS`` is 0 (the tests' default: their builders
write rows without audit events), without Redis, or while Redis does not answer (the page is slower,
never broken).  The seconds only bound how long an unused figure stays in Redis.

Cached values are plain data (numbers, dates, Decimals, small dataclasses) pickled into Redis, the
same trust as the job queue's pickled arguments; nothing per user and no bank detail is kept here.
"""
from __future__ import annotations

import hashlib
import logging
import pickle
from functools import lru_cache
from typing import Callable, TypeVar

from flask import current_app, g, has_request_context
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = "voucher:start-page:"


@lru_cache(maxsize=4)
def _client(url: str) -> Redis:
    # One pool per process and URL (redis-py reconnects after a fork); short timeouts, as the
    # figure can always be computed instead.
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


def _seconds() -> int:
    return int(current_app.config.get("START_PAGE_CACHE_SECONDS") or 0)


def _state() -> str:
    """The audit chain's head and the local day, read once per request."""
    from voucher.audit.services import chain_head
    from voucher.deadlines import local_today

    if has_request_context() and "_figures_state" in g:
        return g._figures_state
    state = f"{chain_head()}:{local_today().isoformat()}"
    if has_request_context():
        g._figures_state = state
    return state


def cached_figure(name: str, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or the value it gave for the same ``name`` and ``key`` since the last recorded
    change (see the module's note): the rule is that a figure is never older than the newest commit."""
    seconds, url = _seconds(), current_app.config.get("REDIS_URL")
    if seconds <= 0 or not url:
        return compute()
    digest = hashlib.sha256(repr((name, key)).encode()).hexdigest()[:32]
    redis_key = f"{PREFIX}{name}:{hashlib.sha256(_state().encode()).hexdigest()[:24]}:{digest}"
    client = _client(url)
    try:
        raw = client.get(redis_key)
    except RedisError:
        log.warning("start-page figures: Redis did not answer; computing %s", name)
        return compute()
    if raw is not None:
        return pickle.loads(raw)
    value = compute()
    try:
        client.set(redis_key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), ex=seconds)
    except RedisError:
        log.warning("start-page figures: Redis did not answer; %s not kept", name)
    return value
