"""Time check() in a real kernel, as a student running the lab notebook's check cells would.

    python bench/notebook_check.py [--repeat 7] [--public]

Starts one IPython kernel in exercises/exercise3 (importing this checkout's
grader), defines the reference's functions in cells, then calls
check("PART") for each part and check() for the whole exercise, --repeat
times each, timing the call inside the kernel (grading, figures and the HTML
included; the first call of all also loads pytest, the suites and the
reference). --public times the student bundle's case: the public checks,
with no solutions (a bundle made by `grade release` in a temporary folder).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTS = ["sigmoid", "compute_cost_logistic", "compute_gradient_logistic", "gradient_descent"]

TIMER = """
import json, time
from grader import check
def _time(asked, repeat):
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        shown = check(asked) if asked else check()
        shown._repr_html_()
        seconds.append(time.perf_counter() - started)
    return shown.passed, seconds
"""


def run(root: Path, repeat: int) -> dict:
    import nbformat.v4 as v4
    from nbclient import NotebookClient

    reference = (ROOT / "solutions" / "exercise3" / "logistic_regression.py").read_text()
    calls = [f"print(json.dumps(_time({name!r}, {repeat})))" for name in [*PARTS, None]]
    nb = v4.new_notebook(cells=[v4.new_code_cell(text) for text in [reference, TIMER, *calls]])
    folder = root / "exercises" / "exercise3"
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel(env={**os.environ, "PYTHONPATH": str(root)}):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    found = {}
    for name, cell in zip([*PARTS, "check()"], nb.cells[2:]):
        passed, seconds = json.loads(cell.outputs[0].text)
        found[name] = (passed, seconds)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--public", action="store_true", help="time the student bundle's public checks")
    args = parser.parse_args()
    if args.public:
        from grader.authoring.release import write_bundle
        from grader.course import Course

        with tempfile.TemporaryDirectory() as tmp:
            write_bundle(Course(ROOT).exercise("exercise3"), Path(tmp))
            results = run(Path(tmp), args.repeat)
    else:
        results = run(ROOT, args.repeat)
    print(f"check() in a kernel, {'public checks' if args.public else 'hidden suites'}, {args.repeat} calls each")
    print("| call | passed | first | median of the rest | min |")
    print("|---|---|---|---|---|")
    for name, (passed, seconds) in results.items():
        rest = seconds[1:] or seconds
        print(f"| {name} | {passed} | {seconds[0]:.3f} s | {statistics.median(rest):.3f} s | {min(seconds):.3f} s |")


if __name__ == "__main__":
    main()
