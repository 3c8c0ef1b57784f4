"""Runs every benchmark under bench/ in turn and prints their figures (``make bench``).

Each runs with its defaults; documents_bench.py reads BENCH_DOCS_JOBS / BENCH_DOCS_PDFS for a shorter run
(``make bench BENCH_DOCS_JOBS=200``)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in sorted(HERE.glob("*_bench.py")):
    print(f"\n=== {script.name} ===", flush=True)
    result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
    if result.returncode:
        sys.exit(result.returncode)
