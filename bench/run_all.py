"""Runs every benchmark under bench/ in turn and prints their figures (``make bench``)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in sorted(HERE.glob("*_bench.py")):
    print(f"\n=== {script.name} ===", flush=True)
    result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
    if result.returncode:
        sys.exit(result.returncode)
