"""Time `grade similarity exercise3` on a class of N submissions (default 300).

The class: the four correct styles of tests/corpus and the reference, each
varied per student (its names renamed, so no two are byte-identical), and
every twentieth student a copy of the one before. Students of one style
share most of their code, so most pairs within a style are flagged: this is
the slow case (every pair compared in full), a measure of time, not of the
flags. Prints the command's first line and the wall time.

    .venv/bin/python bench/similarity.py [--students N]
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
STYLES = [(CORPUS / f"correct_{s}.py").read_text() for s in ("loops", "stable", "tanh", "vectorized")]
STYLES.append((ROOT / "solutions" / "exercise3" / "logistic_regression.py").read_text())


def varied(source: str, n: int) -> str:
    return re.sub(r"\b(history|J_history|err|cost)\b", lambda m: f"{m.group(1)}_{n}", source)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        previous = ""
        for n in range(args.students):
            source = varied(previous, n) if n % 20 == 19 else varied(STYLES[n % len(STYLES)], n)
            (folder / f"s{n:03d}.py").write_text(source)
            previous = source
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "grader", "similarity", "exercise3", str(folder),
                               "--out", str(Path(tmp) / "out")], cwd=ROOT, capture_output=True, text=True)
        wall = time.monotonic() - started
        lines = proc.stdout.splitlines()
        print("\n".join(lines[:1] + [line for line in lines if "not compared" in line][:3]) or proc.stderr)
        print(f"{args.students} students: {wall:.2f} s wall")


if __name__ == "__main__":
    main()
