"""Time the feedback page's figures per student, in one process.

    python bench/figure_timing.py [--students 20] [--save DIR]

Builds exercise3's figure data for N made-up students (correct, slower or
faster learning rates, a scaled sigmoid, a gradient_descent that raises, one
that climbs instead of descending) with the exercise's own plots.py and
in-process stand-ins for the sandbox, then times rendering every figure of a
student (PNG encoding and base64 included, as grader/render/html.py does it).
The first student is excluded: it pays for matplotlib's import and the
drawings that are shared by every student. A second pass over the same
students shows the time once every shared drawing exists. --save writes each
student's figures as an HTML page.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def students(reference, count: int):
    """Stand-ins for `student`: variations of the reference, each with different values."""

    def descent(rate, sign=1.0):
        def run(X, y, w_in, b_in, alpha, num_iters):
            if sign > 0:
                return reference.gradient_descent(X, y, w_in, b_in, alpha * rate, num_iters)
            w, b, history = reference.gradient_descent(X, y, w_in, b_in, alpha * rate, num_iters)
            return -w, -b, [0.69 + (0.69 - c) * 3 for c in history]
        return run

    def broken(*args):
        raise ValueError("not today")

    for i in range(count):
        kind = i % 5
        sigmoid = reference.sigmoid if kind != 1 else (lambda z, k=1 + 0.05 * i: k * reference.sigmoid(z))
        run = {0: descent(1.0), 1: descent(0.5 + 0.05 * i), 2: broken, 3: descent(1.0, -1.0),
               4: descent(1.5 + 0.01 * i)}[kind]
        yield f"student{i:02d}", SimpleNamespace(sigmoid=sigmoid, gradient_descent=run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    reference = load(ROOT / "solutions" / "exercise3" / "logistic_regression.py", "reference")
    plots = load(ROOT / "solutions" / "exercise3" / "plots.py", "plots")
    names = ("sigmoid_curve", "cost_history", "decision_boundary")
    data = [(sid, [getattr(plots, n)(student, reference).to_dict() for n in names])
            for sid, student in students(reference, args.students)]

    from grader.render import html

    for run in ("first pass", "second pass"):
        times = []
        for sid, figures in data:
            started = time.perf_counter()
            pages = [html._figure(f) for f in figures]
            times.append(time.perf_counter() - started)
            if args.save:
                (args.save / sid).mkdir(parents=True, exist_ok=True)
                (args.save / sid / "figures.html").write_text(html.page(sid, "\n".join(pages)))
        rest = [1000 * t for t in (times[1:] if run == "first pass" else times)]
        print(f"{run}: "
              + (f"first student {1000 * times[0]:.1f} ms; next {len(rest)}: " if run == "first pass" else "")
              + f"median {statistics.median(rest):.1f} ms, mean {statistics.mean(rest):.1f} ms, "
              f"min {min(rest):.1f} ms, max {max(rest):.1f} ms per student (3 figures)")

if __name__ == "__main__":
    main()
