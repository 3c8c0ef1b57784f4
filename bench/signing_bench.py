"""Signing benchmark (issue 18 §5, issue 15's document throughput): what a PAdES signature adds to a
document, measured in one process as a worker does it (the key loaded once, the renderer warmed up).

Prints, per document (median and mean of N runs, milliseconds):

* loading the key and certificate (once per worker process; the test certificate generated first
  where none exists);
* rendering a payment order (the reference);
* signing it visibly on its seal box, and invisibly (a document without a seal box);
* drawing the visible signature's appearance alone;
* checking a signature as the verification page does;
* render + sign as a rate (documents per second per worker process) next to render alone.

    .venv/bin/python bench/signing_bench.py            # N=50
    .venv/bin/python bench/signing_bench.py --runs 200
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ISSUED = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def row(label: str, times: list[float]) -> None:
    print(f"{label:<44} {statistics.median(times):9.1f} {statistics.fmean(times):9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_SIGNING_RUNS", 50)))
    args = parser.parse_args()

    from documents_bench import order_data

    from voucher.documents import signing
    from voucher.documents.pdf import payment_order_pdf, recording_seal_boxes, warm_up
    from voucher.i18n import compile_catalog

    compile_catalog()
    warm_up()
    with tempfile.TemporaryDirectory(prefix="voucher-signing-bench-") as tmp:
        config = {"ENV_NAME": "development", "SIGNING_TEST_DIR": tmp}
        start = time.perf_counter()
        signing.load_key(config)
        first_load = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        signing.load_key(config)
        cached_load = (time.perf_counter() - start) * 1000

        with recording_seal_boxes() as boxes:
            data = payment_order_pdf(order_data(1))

        def render():
            with recording_seal_boxes():
                payment_order_pdf(order_data(1))

        def sign_visible():
            signing.sign_built(data, lang="zh", signed_at=ISSUED, seal_boxes=boxes, config=config)

        def sign_invisible():
            signing.sign_built(data, lang="zh", signed_at=ISSUED, seal_boxes=(), config=config)

        def appearance():
            signing.appearance_pdf(boxes[0].x2 - boxes[0].x1, boxes[0].y2 - boxes[0].y1,
                                   signing.load_key(config).signer_name, ISSUED, "zh")

        signed = signing.sign_built(data, lang="zh", signed_at=ISSUED, seal_boxes=boxes, config=config)

        def check():
            assert signing.check_signature(signed, config=config).ok

        for fn in (render, sign_visible, sign_invisible, appearance, check):  # warm every path once
            fn()
        results = {name: timed(fn, args.runs) for name, fn in (
            ("render", render), ("sign_visible", sign_visible), ("sign_invisible", sign_invisible),
            ("appearance", appearance), ("check", check))}

    print(f"signing benchmark: {args.runs} runs each, one process; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':<44} {'median ms':>9} {'mean ms':>9}")
    print(f"{'key + certificate, first load (generated)':<44} {first_load:9.1f}")
    print(f"{'key + certificate, again (cached per process)':<44} {cached_load:9.3f}")
    row("render a payment order", results["render"])
    row("sign it, visible on the seal box", results["sign_visible"])
    row("sign, invisible (no seal box)", results["sign_invisible"])
    row("  of which: the visible appearance drawn", results["appearance"])
    row("check a signature (verification page)", results["check"])
    render_ms = statistics.median(results["render"])
    both_ms = render_ms + statistics.median(results["sign_visible"])
    print(f"payment orders per second per worker process: render only {1000 / render_ms:.1f}, "
          f"render + sign {1000 / both_ms:.1f} ({render_ms / both_ms:.2f}x); "
          f"size {len(data):,} → {len(signed):,} bytes")


if __name__ == "__main__":
    main()
