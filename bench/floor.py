"""A single verdict against its floor (not part of the test suite).

    python bench/floor.py [--runs 15]

The floor of `grade exercise3` for a correct submission is what no grader can
skip: an interpreter that imports numpy and makes the student's own lab run
(the 10000-step `gradient_descent` on the lab's data). This script runs the
two, alternately, RUNS times each, and prints their median wall times and
the median of the paired ratios (pairing keeps the ratio readable on a
machine whose speed drifts).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "tests" / "corpus" / "correct_vectorized.py"
KEY = ROOT / "solutions" / "exercise3" / "quiz_key.toml"

FLOOR = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from logistic_regression import gradient_descent
X = np.array([[0.5, 1.5], [1, 1], [1.5, 0.5], [3, 0.5], [2, 2], [1, 2.5]])
y = np.array([0, 0, 0, 1, 1, 1])
gradient_descent(X, y, np.zeros(2), 0.0, 0.1, 10000)
"""


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "logistic_regression.py").write_text(CORRECT.read_text())
        (Path(tmp) / "quiz.toml").write_text(KEY.read_text())
        grade = [sys.executable, "-m", "grader", "exercise3", "--submission", tmp]
        floor = [sys.executable, "-I", "-c", FLOOR, tmp]
        wall(grade), wall(floor)  # warm the file cache for both
        pairs = [(wall(grade), wall(floor)) for _ in range(runs)]
    graded, floors = [g for g, _ in pairs], [f for _, f in pairs]
    ratios = sorted(g / f for g, f in pairs)
    print(f"grade exercise3: median {statistics.median(graded):.3f} s (min {min(graded):.3f}, max {max(graded):.3f})")
    print(f"the floor:       median {statistics.median(floors):.3f} s (min {min(floors):.3f}, max {max(floors):.3f})")
    print(f"grade / floor, paired: median {statistics.median(ratios):.2f}x ({ratios[0]:.2f}x to {ratios[-1]:.2f}x), "
          f"{runs} pairs")


if __name__ == "__main__":
    main()
