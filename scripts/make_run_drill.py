#!/usr/bin/env python3
"""Acceptance drill for ``make run`` under a burst (issue 14): "``make run``, then at once 3 rounds
of 12 simultaneous logins and 6 simultaneous writes: 0 5xx".

Run from anywhere (standard library only)::

    python scripts/make_run_drill.py                  # fresh clone of this repository's HEAD + make install
    python scripts/make_run_drill.py --checkout DIR   # an existing checkout with its .venv (uses DIR/instance!)
    python scripts/make_run_drill.py --port 5099 --rounds 3 --keep
    python scripts/make_run_drill.py --same-address   # everyone from 127.0.0.1: the login limiter answers 429
    python scripts/make_run_drill.py --delay 90       # the same burst once start-up has settled

Without ``--checkout`` it clones the repository it lives in (committed HEAD, not uncommitted changes)
into a temporary directory and runs ``make install`` there, so your own ``instance/`` is never
touched.  It starts ``make run``'s server (``.venv/bin/python -m voucher.devserver`` with ``PORT``;
DATABASE_URL, REDIS_URL, SECRET_KEY and VOUCHER_* are removed from its environment, so it runs on
the embedded defaults a new user meets), polls the login page (at most 180 s) and at once, while
the worker still writes its start-up documents, runs the rounds.  In each round 18 threads first
fetch their forms (CSRF tokens), wait at a barrier, then fire together: 12 logins of demo accounts
(each its own cookie jar and its own address 127.0.0.N, as 12 real users would have, so the login
limiter of 10 per minute per address does not hide the database's behaviour; ``--same-address``
puts everyone on 127.0.0.1; the dashboard is fetched after the redirect) and 6 real writes through
the normal forms by users logged in at the start (SMEs saving new draft applications and submitting
one, an officer approving / returning the oldest submitted application, finance preparing a payable
disbursement or correcting its bank details, a provider saving a new solution draft).  Each write
is checked to have taken effect (its page or list afterwards).  A writer whose login failed tries
again in each round (before the barrier) until it is in.

It prints a table per round (logins ok / 4xx by code / 5xx; writes ok / 4xx / 5xx; p50/max latency
of the POSTs), every failed request, and the server's log lines with "Traceback" or " 500 " (the
gunicorn access log is on the devserver's stdout, captured to a file whose path is printed).
Exit status: 1 if any request answered 5xx, 2 if none did but a write did not take effect (or
a writer could not log in), else 0.  The devserver is stopped with SIGINT at the end, also on error.
"""
from __future__ import annotations

import argparse
import functools
import html
import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
READY_TIMEOUT = 180
REQUEST_TIMEOUT = 120

# Demo accounts (voucher/demo.py, voucher/demo_activity.py): password demo-<local part>-pass.
WRITERS = {"draft_a": "sme3", "draft_b": "sme4", "sme": "sme", "officer": "officer", "finance": "finance",
           "provider": "provider"}
LOGIN_POOL = ["sme2", "sme5", "sme6", "sme7", "sme8", "sme9", "sme10", "sme11", "sme12", "provider2", "provider3",
              "evaluator", "auditor", "admin", "finance2"]


def credentials(local: str) -> tuple[str, str]:
    return f"{local}@demo.test", f"demo-{local}-pass"


# --- HTTP: one cookie jar per user, redirects not followed (their target is what we check) ----------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Hit:
    kind: str      # "login" or "write"
    label: str     # who / what
    method: str
    path: str
    status: int    # 0: no answer (connection error, timeout)
    seconds: float
    fired: bool    # one of the simultaneous POSTs (the latency reported)


class _FromAddress(urllib.request.HTTPHandler):
    """Connects from a given loopback address (127.0.0.N), so each simulated user has its own
    address, as real users do (the login limiter counts per address)."""

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req)


_addresses = iter(range(2, 255))
_address_lock = threading.Lock()
SAME_ADDRESS = False


def next_address() -> str | None:
    if SAME_ADDRESS:
        return None
    with _address_lock:
        return f"127.0.0.{next(_addresses)}"


def loopback_aliases_work() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


class Client:
    def __init__(self, base: str, kind: str, label: str, hits: list, lock: threading.Lock):
        self.base, self.kind, self.label, self.hits, self.lock = base, kind, label, hits, lock
        handlers = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()]
        address = next_address()
        if address:
            handlers.append(_FromAddress(address))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, method: str, path: str, data=None, fired: bool = False) -> tuple[int, str | None, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        started = time.monotonic()
        try:
            with self.opener.open(req, timeout=REQUEST_TIMEOUT) as resp:
                status, location, text = resp.status, resp.headers.get("Location"), resp.read()
        except urllib.error.HTTPError as err:
            status, location, text = err.code, err.headers.get("Location"), err.read()
        except OSError as err:  # refused, reset, timeout: recorded as status 0
            status, location, text = 0, None, str(err).encode()
        with self.lock:
            self.hits.append(Hit(self.kind, self.label, method, path, status, time.monotonic() - started, fired))
        if location:
            location = urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl()
        return status, location, text.decode("utf-8", "replace")

    def get(self, path: str) -> str:
        status, _, text = self.request("GET", path)
        if status != 200:
            raise Failed(f"GET {path} answered {status}", status)
        return text


class Failed(Exception):
    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


# --- forms -------------------------------------------------------------------------------------

class _Forms(HTMLParser):
    """Every <form>: its action and the values a browser would send (hidden and filled inputs,
    checked boxes, textareas, selected options)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                self._form["fields"].append([a["name"], a.get("value") or ""])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            self._form["fields"].append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "first": None, "chosen": False}
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select["first"] is None and value:
                self._select["first"] = value
            if "selected" in a:
                self._form["fields"].append([self._select["name"], value])
                self._select["chosen"] = True

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._select["chosen"] and self._select["first"] is not None:
                self._form["fields"].append([self._select["name"], self._select["first"]])
            self._select = None
        elif tag == "form":
            self._form = None


def form_on(page: str, action_pattern: str) -> tuple[str, dict]:
    """The first form whose action matches: (action, {name: [values]})."""
    parser = _Forms()
    parser.feed(page)
    for form in parser.forms:
        if re.search(action_pattern, form["action"]):
            data: dict[str, list[str]] = {}
            for name, value in form["fields"]:
                data.setdefault(name, []).append(value)
            return html.unescape(form["action"]), data
    raise Failed(f"no form with action {action_pattern!r} on the page")


def ids_in(page: str, pattern: str) -> list[int]:
    return sorted({int(m) for m in re.findall(pattern, page)})


# --- one login ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    kind: str
    label: str
    ok: bool = False
    status: int | None = None   # the status that decided the outcome
    note: str = ""


def login(client: Client, local: str, fire=lambda: None) -> Outcome:
    """GET /login (CSRF token), wait for the others, POST; success is a redirect and the start page."""
    out = Outcome("login", local)
    try:
        _, data = form_on(client.get("/login"), r"login|^$")
        email, password = credentials(local)
        data.update(email=[email], password=[password])
    except Failed as err:
        fire()
        out.status, out.note = err.status, str(err)
        return out
    fire()
    status, location, _ = client.request("POST", "/login", data, fired=True)
    out.status = status
    if status not in (302, 303):
        out.note = f"POST /login answered {status}"
        return out
    status, _, _ = client.request("GET", location or "/")
    out.status, out.ok = status, status == 200
    if not out.ok:
        out.note = f"start page after login answered {status}"
    return out


# --- the writes --------------------------------------------------------------------------------

def beijing_today():
    return datetime.now(BEIJING).date()


class Writer:
    """A logged-in user who makes one real change per round; ``prepare`` fetches the form (before
    the barrier), ``fire`` posts it, ``check`` confirms the change is there."""

    def __init__(self, role: str, local: str, client: Client, logged_in: bool):
        self.role, self.local, self.client, self.logged_in = role, local, client, logged_in
        self.state: dict = {}

    # each returns (description, action path, form data, check(status, location) -> None)
    def prepare(self, round_no: int):
        kind = self.role if self.role in ("sme", "officer", "finance", "provider") else "draft"
        return getattr(self, f"_prepare_{kind}")(round_no)

    def _marker(self, round_no: int) -> str:
        return f"drill-r{round_no}-{self.local}-{int(time.time() * 1000) % 100000000}"

    # an SME saves a new draft application
    def _prepare_draft(self, round_no: int):
        c = self.client
        solutions = ids_in(c.get("/applications/new"), r"solution_id=(\d+)")
        if not solutions:
            raise Failed("no solution to choose on /applications/new")
        solution = solutions[(round_no + sum(map(ord, self.local))) % len(solutions)]
        action, data = form_on(c.get(f"/applications/new?solution_id={solution}"), r"/applications/new")
        marker = self._marker(round_no)
        day = beijing_today()
        data.update(requested_amount=["10000.00"], need_statement=[f"Trial of the solution for the workshop ({marker})."],
                    contract_date=[(day + timedelta(days=7)).isoformat()],
                    trial_start_date=[(day + timedelta(days=10)).isoformat()], baseline_defect_rate=["3.20"])

        def check(status, location):
            m = re.fullmatch(r"/applications/(\d+)", location or "")
            if status not in (302, 303) or not m:
                raise Failed(f"saving the draft answered {status} → {location}", status)
            self.state["draft"] = int(m.group(1))
            if marker not in c.get(location):
                raise Failed(f"the new draft {location} does not show its statement")
        return f"new draft (solution {solution})", action, data, check

    # the demo SME: submits its draft (round 1), saves a new draft (2), submits that one (3), ...
    def _prepare_sme(self, round_no: int):
        c = self.client
        if round_no % 2 == 0:
            return self._prepare_draft(round_no)
        draft = self.state.pop("draft", None)
        if draft is None:
            drafts = ids_in(c.get("/applications/mine?status=draft"), r'href="/applications/(\d+)"')
            if not drafts:  # its previous draft was not saved: save one now instead
                return self._prepare_draft(round_no)
            draft = drafts[0]
        action, data = form_on(c.get(f"/applications/{draft}"), rf"/applications/{draft}/submit$")

        def check(status, location):
            if status not in (302, 303) or location != f"/applications/{draft}":
                raise Failed(f"submitting #{draft} answered {status} → {location}", status)
            if f'href="/applications/{draft}"' not in c.get("/applications/mine?status=submitted"):
                raise Failed(f"#{draft} is not listed as submitted afterwards")
        return f"submit application #{draft}", action, data, check

    # the officer: approves (odd rounds) or returns (even rounds) the oldest submitted application
    def _prepare_officer(self, round_no: int):
        c = self.client
        waiting = ids_in(c.get("/applications/review?status=submitted"), r'href="/applications/(\d+)"')
        if not waiting:
            raise Failed("no submitted application in the review queue")
        target, action_name = waiting[0], ("approve" if round_no % 2 else "return")
        action, data = form_on(c.get(f"/applications/{target}"), rf"/applications/{target}/{action_name}$")
        if action_name == "return":
            data["return-reason"] = [f"Please attach the energy ledger of the last three months ({self._marker(round_no)})."]
        state = {"approve": "approved", "return": "returned"}[action_name]

        def check(status, location):
            if status not in (302, 303) or location != f"/applications/{target}":
                raise Failed(f"{action_name} #{target} answered {status} → {location}", status)
            if f'href="/applications/{target}"' not in c.get(f"/applications/review?status={state}"):
                raise Failed(f"#{target} is not listed as {state} afterwards")
        return f"{action_name} application #{target}", action, data, check

    # finance: prepares a payable item while there is one, else corrects a prepared one's bank details
    def _prepare_finance(self, round_no: int):
        c = self.client
        links = sorted(set(re.findall(r'href="(/payments/prepare\?[^"]+)"', c.get("/payments/queue"))))
        prepared = self.state.setdefault("prepared", [])
        if links:
            link = html.unescape(links[0])
            action, data = form_on(c.get(link), r"/payments/prepare$")

            def check(status, location):
                m = re.fullmatch(r"/payments/disbursements/(\d+)", location or "")
                if status not in (302, 303) or not m:
                    raise Failed(f"preparing {link} answered {status} → {location}", status)
                prepared.append(int(m.group(1)))
                c.get(location)
                if links[0] in c.get("/payments/queue"):
                    raise Failed(f"{link} is still offered for preparation afterwards")
            return f"prepare {link.split('?')[1]}", action, data, check
        if not prepared:
            raise Failed("nothing payable and nothing prepared by this drill")
        target = prepared[0]
        edit = f"/payments/disbursements/{target}/edit"
        action, data = form_on(c.get(edit), rf"^(|{edit})$")
        action = action or edit  # the form posts to its own page
        bank = f"温州银行鹿城支行 drill r{round_no}"
        data["bank_name"] = [bank]

        def check(status, location):
            if status not in (302, 303) or location != f"/payments/disbursements/{target}":
                raise Failed(f"editing disbursement #{target} answered {status} → {location}", status)
            if bank not in c.get(location):
                raise Failed(f"disbursement #{target} does not show the new bank name")
        return f"bank details of disbursement #{target}", action, data, check

    # a provider saves a new solution draft
    def _prepare_provider(self, round_no: int):
        c = self.client
        action, data = form_on(c.get("/catalogue/mine/new"), r"/catalogue/mine/new")
        title = f"Drill solution {self._marker(round_no)}"
        data.update(title=[title], category=["mes"], target_industries=["machinery"],
                    description=["Cloud MES for small workshops, with on-site set-up and training."],
                    list_price=["100000.00"], trial_price=["50000.00"], trial_period_days=["30"])

        def check(status, location):
            if status not in (302, 303) or not re.fullmatch(r"/catalogue/solutions/\d+", location or ""):
                raise Failed(f"saving the solution answered {status} → {location}", status)
            if html.escape(title) not in c.get(location) and title not in c.get(location):
                raise Failed(f"{location} does not show the new solution's title")
        return "new solution draft", action, data, check


def write(writer: Writer, role: str, round_no: int, fire) -> Outcome:
    out = Outcome("write", f"{writer.local}")
    if not writer.logged_in:  # its login at the start failed: once more, before the barrier
        again = login(writer.client, writer.local)
        if not again.ok:
            fire()
            out.status, out.note = again.status, f"could not log in again: {again.note}"
            return out
        writer.logged_in = True
    try:
        description, action, data, check = writer.prepare(round_no)
    except Failed as err:
        fire()
        out.status, out.note = err.status, f"preparing: {err}"
        return out
    out.label = f"{writer.local}: {description}"
    fire()
    status, location, _ = writer.client.request("POST", action, data, fired=True)
    out.status = status
    try:
        check(status, location)
    except Failed as err:
        out.status = err.status or status
        out.note = str(err)
        return out
    out.ok = True
    return out


# --- a round -----------------------------------------------------------------------------------

def run_parallel(tasks) -> list[Outcome]:
    """Run the tasks in threads; each calls ``fire()`` just before its POST, which waits until every
    task is ready, so the POSTs leave together."""
    barrier = threading.Barrier(len(tasks))

    def fire():
        try:
            barrier.wait(timeout=REQUEST_TIMEOUT * 2)
        except threading.BrokenBarrierError:
            pass

    results: list = [None] * len(tasks)

    def run(i, task):
        try:
            results[i] = task(fire)
        except Exception as err:  # a bug in the drill must not hang the others
            fire()
            results[i] = Outcome("?", "?", note=f"drill error: {err!r}")

    threads = [threading.Thread(target=run, args=(i, t), daemon=True) for i, t in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def summarise(name: str, outcomes: list[Outcome], hits: list[Hit]) -> dict:
    row = {"name": name}
    for kind in ("login", "write"):
        mine = [o for o in outcomes if o.kind == kind]
        kind_hits = [h for h in hits if h.kind == kind]
        fired = [h.seconds for h in kind_hits if h.fired]
        row[kind] = {
            "n": len(mine), "ok": sum(o.ok for o in mine),
            "4xx": Counter(h.status for h in kind_hits if 400 <= h.status < 500),
            "5xx": Counter(h.status for h in kind_hits if h.status >= 500),
            "none": sum(1 for h in kind_hits if h.status == 0),
            "p50": statistics.median(fired) if fired else None, "max": max(fired) if fired else None,
        }
    return row


def fmt_counts(c: Counter) -> str:
    return ",".join(f"{n}×{code}" for code, n in sorted(c.items())) if c else "0"


def print_table(rows: list[dict]) -> None:
    head = (f"{'round':<8} {'logins ok':>9} {'4xx':>10} {'5xx':>7} {'p50/max s':>11} | "
            f"{'writes ok':>9} {'4xx':>8} {'5xx':>7} {'p50/max s':>11}")
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = []
        for kind, width in (("login", 10), ("write", 8)):
            k = row[kind]
            lat = "-" if k["p50"] is None else f"{k['p50']:.2f}/{k['max']:.2f}"
            five = fmt_counts(k["5xx"]) + (f"+{k['none']}×none" if k["none"] else "")
            cells.append(f"{k['ok']:>4}/{k['n']:<4} {fmt_counts(k['4xx']):>{width}} {five:>7} {lat:>11}")
        print(f"{row['name']:<8} {cells[0]} | {cells[1]}")
    print("(writers: the 6 writers log in together, before round 1.  ok = succeeded and checked; 4xx/5xx"
          " count every request, GETs included; latency = the simultaneous POSTs)")


# --- the server --------------------------------------------------------------------------------

def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def clean_env(port: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VOUCHER_") and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FLASK_APP")}
    env.update(PORT=str(port), PYTHONUNBUFFERED="1")
    return env


def fresh_checkout(keep: bool) -> Path:
    here = Path(__file__).resolve().parent
    top = subprocess.run(["git", "-C", str(here), "rev-parse", "--show-toplevel"], check=True, capture_output=True,
                         text=True).stdout.strip()
    head = subprocess.run(["git", "-C", top, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    target = Path(tempfile.mkdtemp(prefix="voucher-drill-")) / "voucher"
    print(f"cloning {top} @ {head[:10]} into {target}{' (kept)' if keep else ''} ...", flush=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", top, str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "-q", "--detach", head], check=True)
    started = time.monotonic()
    print("make install ...", flush=True)
    done = subprocess.run(["make", "install"], cwd=target, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode:
        print(done.stdout[-5000:], file=sys.stderr)
        raise SystemExit(f"make install failed in {target}")
    print(f"make install took {time.monotonic() - started:.0f} s", flush=True)
    return target


def wait_ready(base: str, server: subprocess.Popen) -> float:
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT:
        if server.poll() is not None:
            raise SystemExit(f"the devserver exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(base + "/login", timeout=5) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the login page did not answer within {READY_TIMEOUT} s")


def stop(server: subprocess.Popen | None) -> None:
    """SIGINT to the devserver (it stops gunicorn, the worker and Redis); if it is still there after
    20 s, SIGINT to its whole process group (what Ctrl-C in a terminal does), then SIGKILL.  The
    group is the devserver's own session: only what this drill started."""
    if server is None or server.poll() is not None:
        return
    for send, wait in ((lambda: server.send_signal(signal.SIGINT), 20),
                       (lambda: os.killpg(server.pid, signal.SIGINT), 20),
                       (lambda: os.killpg(server.pid, signal.SIGKILL), 10)):
        try:
            send()
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def log_excerpt(path: Path) -> list[str]:
    """Lines with "Traceback", " 500 " or Flask's "ERROR in app" (the endpoint), each traceback
    followed by its exception line (what failed, e.g. "database is locked") and SQL statement."""
    picked, in_trace, want_sql = [], False, False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if "Traceback" in line:
            in_trace, want_sql = True, False
            picked.append(line)
        elif " 500 " in line or "ERROR in app" in line:
            in_trace = want_sql = False
            picked.append(line)
        elif in_trace and line and not line[0].isspace() and not line.startswith(("During handling", "The above")):
            picked.append("    " + line)
            in_trace, want_sql = False, True
        elif want_sql and line.startswith("[SQL:"):
            picked.append("    " + line[:200])
            want_sql = False
    return picked


# --- main --------------------------------------------------------------------------------------

def _interrupted(*_):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, help="an existing checkout with .venv (default: a fresh clone)")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    parser.add_argument("--log", type=Path, help="the devserver's output (default: a temporary file, kept)")
    parser.add_argument("--delay", type=float, default=0,
                        help="seconds to wait after the login page answers (default 0: at once)")
    parser.add_argument("--same-address", action="store_true",
                        help="every user connects from 127.0.0.1 (the login limiter then answers 429 after 10)")
    args = parser.parse_args()
    global SAME_ADDRESS
    SAME_ADDRESS = args.same_address or not loopback_aliases_work()
    if SAME_ADDRESS and not args.same_address:
        print("note: this system cannot connect from 127.0.0.N: every user comes from 127.0.0.1", flush=True)

    if port_in_use(args.port):
        print(f"port {args.port} is already in use: stop that server or give --port", file=sys.stderr)
        return 3
    t0 = time.monotonic()
    checkout = args.checkout.resolve() if args.checkout else fresh_checkout(args.keep)
    python = checkout / ".venv" / "bin" / "python"
    if not python.exists():
        print(f"{python} is missing: run `make install` in {checkout}", file=sys.stderr)
        return 3
    log_path = args.log or Path(tempfile.mkstemp(prefix="make_run_drill-", suffix=".log")[1])
    base = f"http://127.0.0.1:{args.port}"
    server = None
    signal.signal(signal.SIGTERM, _interrupted)
    # Started in the background by a shell, SIGINT may be ignored, and an ignored signal stays
    # ignored in the devserver: handled here, it is back to its default there.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    hits: list[Hit] = []
    lock = threading.Lock()
    rows, failures, writes = [], [], []
    try:
        with open(log_path, "wb") as log:
            server = subprocess.Popen([str(python), "-m", "voucher.devserver"], cwd=checkout, env=clean_env(args.port),
                                      stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            print(f"devserver started (pid {server.pid}), output in {log_path}", flush=True)
            ready = wait_ready(base, server)
            print(f"login page answered {ready:.1f} s after start", flush=True)
            if args.delay:
                print(f"waiting {args.delay:.0f} s (--delay)", flush=True)
                time.sleep(args.delay)
            print("the burst begins now", flush=True)
            t_burst = time.monotonic()

            # The writers log in first, together (6 logins against the same per-address limit).
            writer_clients = {role: Client(base, "write", local, hits, lock) for role, local in WRITERS.items()}
            start_hits = len(hits)
            outcomes = run_parallel([lambda fire, r=role: login(writer_clients[r], WRITERS[r], fire)
                                     for role in WRITERS])
            for o in outcomes:
                o.kind = "write"
            writers = {role: Writer(role, WRITERS[role], writer_clients[role], o.ok)
                       for role, o in zip(WRITERS, outcomes)}
            rows.append(summarise("writers", [Outcome("login", o.label, o.ok) for o in outcomes],
                                  [replace(h, kind="login") for h in hits[start_hits:]]))
            writes += [("writers' logins", Outcome("write", f"{o.label} logs in", o.ok, o.status, o.note))
                       for o in outcomes]

            for round_no in range(1, args.rounds + 1):
                offset = (round_no - 1) * 4
                accounts = [LOGIN_POOL[(offset + i) % len(LOGIN_POOL)] for i in range(12)]
                start_hits = len(hits)
                tasks = [lambda fire, a=a: login(Client(base, "login", a, hits, lock), a, fire) for a in accounts]
                tasks += [lambda fire, r=role, n=round_no: write(writers[r], r, n, fire) for role in WRITERS]
                outcomes = run_parallel(tasks)
                rows.append(summarise(f"round {round_no}", outcomes, hits[start_hits:]))
                failures += [(f"round {round_no}", o) for o in outcomes if not o.ok]
                writes += [(f"round {round_no}", o) for o in outcomes if o.kind == "write"]
            t_end = time.monotonic()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop(server)
        if not args.checkout and not args.keep:
            shutil.rmtree(checkout.parent, ignore_errors=True)

    print()
    print_table(rows)
    print()
    print("writes:")
    for where, o in writes:
        print(f"  {where:<16} {'ok ' if o.ok else 'NOT'} {o.label}{'' if o.ok else ': ' + (o.note or str(o.status))}")
    failed_logins = [(where, o) for where, o in failures if o.kind == "login"]
    print(f"logins not ok: {len(failed_logins)}")
    for where, o in failed_logins:
        print(f"  {where:<16} {o.label}: {o.note or o.status}")
    print()
    bad = [h for h in hits if h.status >= 500 or h.status == 0]
    for h in bad:
        print(f"  {h.status or 'no answer'} {h.method} {h.path} ({h.label}, {h.seconds:.2f} s)")
    excerpt = log_excerpt(log_path)
    print(f"server log ({log_path}): {len(excerpt)} line(s) with Traceback / ' 500 ' / ERROR in app")
    for line in excerpt:
        print("  " + line)
    errors = Counter(line.strip() for line in excerpt if line.startswith("    "))
    print("what failed, by count:")
    for line, n in errors.most_common():
        print(f"  {n:>3} × {line}")
    print()
    print(f"timing: ready after {ready:.1f} s, burst {t_end - t_burst:.1f} s, whole drill {time.monotonic() - t0:.0f} s")
    writes_failed = any(not o.ok for _, o in writes)
    if bad:
        print(f"RESULT: {len(bad)} request(s) answered 5xx (or not at all)")
        return 1
    if writes_failed:
        print("RESULT: no 5xx, but some write did not take effect")
        return 2
    print("RESULT: 0 5xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
