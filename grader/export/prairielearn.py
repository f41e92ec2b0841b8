"""`grade export prairielearn NAME --out DIR`: one exercise as a PrairieLearn
question, graded externally in a container.

DIR is laid out as a PrairieLearn course (export into the course's repository,
or copy DIR over it):

    questions/NAME/info.json, question.html   the question: students upload the module and the quiz
    questions/NAME/tests/run.sh               the entrypoint (PrairieLearn copies tests/ to /grade/tests)
    serverFilesCourse/mlgrade-NAME/           the grader, exercises/NAME and solutions/NAME: a course
                                              root of this one exercise (to /grade/serverFilesCourse)
    mlgrade-image/Dockerfile, requirements.txt  the grading image: PrairieLearn's Python image with
                                              the grader's third-party packages, pinned

For each submission PrairieLearn starts the image with networking off and the
student's files in /grade/student, and runs run.sh, which runs `grade export
run prairielearn NAME` (runner.run_prairielearn) and leaves
/grade/results/results.json for PrairieLearn to read.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ..course import Exercise
from ..errors import GraderError
from ..grouping import Group, failure_groups
from ..results import GradeResult, PartResult
from . import bundle

ROOT_VARIABLE = "GRADER_PL_ROOT"  # where /grade is: only the grader's own tests set it
IMAGE_FOLDER = "mlgrade-image"
DEFAULT_IMAGE = "mlgrade-grader"  # no account in it: nobody else can publish an image of that name on Docker Hub
DEFAULT_TOPIC = "Machine learning"
ENV = "/mlgrade-env"  # the image's Python environment
FIGURES_MODULE = "plots.py"  # solutions/NAME/plots.py: the feedback figures, which PrairieLearn shows
MAX_RESULTS_BYTES = 1_000_000  # PrairieLearn refuses a larger results.json
OUTPUT_CUT = 2000  # characters of a test's output kept when the results would be too large
MAX_TIMEOUT = 600  # PrairieLearn's limit for a grading job, in seconds

RUN = r"""#!/usr/bin/env bash
# PrairieLearn runs this for every submission (written by `grade export prairielearn {name}`),
# as root, with networking off: the student's files in /grade/student, the grader, the
# exercise and its solutions in /grade/serverFilesCourse/{folder}. The grader writes
# /grade/results/results.json itself, after grading; what it prints goes to the job's log.
ROOT="${{{root_variable}:-/grade}}"  # only the grader's own tests set it
COURSE="$ROOT/serverFilesCourse/{folder}"
cd "$ROOT" || exit 1
# -I: nothing from the environment or the current folder; the grader comes from COURSE alone.
START='import sys; sys.path.insert(0, sys.argv[1]); from grader.cli import main; main(sys.argv[2:], prog_name="grade")'
python3 -I -c "$START" "$COURSE" export run prairielearn {name}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    # The grader could not even start (another image, course files missing): not the student's fault.
    mkdir -p "$ROOT/results"
    printf '{{"gradable": false, "format_errors": ["%s"]}}\n' \
        "The grader failed to run (exit status $status). This is not your mistake: tell your instructor." \
        > "$ROOT/results/results.json"
fi
exit 0
"""

DOCKERFILE = """\
# The grading image of the questions `grade export prairielearn` writes: PrairieLearn's
# Python image, and in {env} a Python {python} environment holding the grader's third-party
# packages at the versions in requirements.txt, those it was exported and tested with. The
# grader itself is not in the image: it comes with the course's files
# (serverFilesCourse/mlgrade-NAME/). Building needs the network once; grading never does.
# How to build and push it: docs/prairielearn.md.
FROM prairielearn/grader-python
COPY requirements.txt /mlgrade/requirements.txt
RUN uv venv --python {python} {env} \\
    && uv pip install --python {env}/bin/python -r /mlgrade/requirements.txt \\
    && chmod -R a+rX {env}
ENV PATH="{env}/bin:$PATH"
"""


@dataclass(frozen=True)
class Job:
    """A PrairieLearn grading job's folders: /grade, or $GRADER_PL_ROOT in the grader's own tests."""

    root: Path

    @classmethod
    def here(cls) -> Job:
        return cls(Path(os.environ.get(ROOT_VARIABLE) or "/grade"))

    @property
    def student(self) -> Path:
        return self.root / "student"

    @property
    def tests(self) -> Path:
        return self.root / "tests"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"

    def course(self, name: str) -> Path:
        """The course root of exercise `name` among the course files."""
        return self.root / "serverFilesCourse" / course_folder(name)


@dataclass
class Written:
    """An exported question: where, its files (path, size), and the image its info.json names."""

    out: Path
    entries: list
    image: str


def course_folder(name: str) -> str:
    return f"mlgrade-{name}"


def question_uuid(name: str) -> str:
    """The question's uuid: the same for every export of exercise `name`, so PrairieLearn keeps it one question."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mlgrade:prairielearn:{name}"))


def hides_hidden(exercise: Exercise) -> bool:
    """Whether hidden tests are shown only as "hidden test N": PrairieLearn shows results at once and
    never later, so any [gradescope] hidden_tests other than "visible" means not now, hence not in full."""
    options = exercise.gradescope
    return options.hide_hidden or options.hidden_tests != "visible"


def timeout(exercise: Exercise) -> int:
    """Seconds PrairieLearn lets a grading job run: a minute for the grading itself, plus starting the
    worker and, per part, the wall-clock net that stops a student function that sleeps (5 s + 5 x its CPU
    limit), so that such a function costs its part, never the whole result."""
    limits = exercise.limits
    worst = limits.import_seconds + len(exercise.parts) * (5 + 5 * limits.call_seconds)
    return min(MAX_TIMEOUT, math.ceil(60 + worst))


def question_html(exercise: Exercise) -> str:
    """The question: brief instructions, the upload of the module (and the quiz), and the results."""
    uploads = [exercise.module_file] + ([exercise.quiz_file] if exercise.questions else [])
    names = ", ".join(name.replace(",", "\\,") for name in uploads)  # PrairieLearn's escape for a comma in a name
    parts = "".join(f"    <li><code>{escape(p.function)}</code>: {p.points:g} points</li>\n" for p in exercise.parts)
    if exercise.questions:
        parts += f"    <li>the quiz: {exercise.quiz_points:g} points</li>\n"
    shown = ("The lab's own examples are shown in full; the hidden tests show only whether they passed."
             if hides_hidden(exercise) else "Every test is shown with its input, the expected value and yours.")
    what = f" and answer the quiz in <code>{escape(exercise.quiz_file)}</code>" if exercise.questions else ""
    return (
        "<pl-question-panel>\n"
        f"  <p>Fill in the functions of <code>{escape(exercise.module_file)}</code>{what}, as the lab "
        f"(its README or the notebook <code>{escape(exercise.notebook_file)}</code>) explains, then upload "
        f"{'both files' if exercise.questions else 'it'} below.</p>\n"
        f"  <ul>\n{parts}  </ul>\n"
        "  <p>Each function is graded on its own: a mistake in one costs points in that one only. "
        f"{shown} You may submit again as often as the assessment allows.</p>\n"
        "</pl-question-panel>\n\n"
        f'<pl-file-upload file-names="{escape(names)}"></pl-file-upload>\n\n'
        "<pl-submission-panel>\n"
        "  <pl-external-grader-results></pl-external-grader-results>\n"
        "  <pl-file-preview></pl-file-preview>\n"
        "</pl-submission-panel>\n"
    )


def info_json(exercise: Exercise, image: str, topic: str = DEFAULT_TOPIC) -> str:
    """The question's info.json: graded externally in `image`, with the grader's course files and networking off."""
    info = {
        "uuid": question_uuid(exercise.name),
        "type": "v3",
        "title": exercise.title,
        "topic": topic,
        "gradingMethod": "External",
        "singleVariant": True,
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "entrypoint": "/grade/tests/run.sh",
            "serverFilesCourse": [f"{course_folder(exercise.name)}/"],
            "timeout": timeout(exercise),
            "enableNetworking": False,
        },
    }
    return json.dumps(info, indent=2) + "\n"


def image_name(given: str | None, files: dict) -> str:
    """The image info.json names: `given` (default mlgrade-grader) and, unless it has a tag, a tag made from
    the image's Dockerfile and pins, so that other packages are another image, never a stale one (and the
    exercises exported from one environment share one)."""
    name = given or DEFAULT_IMAGE
    if ":" in name.rsplit("/", 1)[-1] or "@" in name:
        return name
    requirements = files[f"{IMAGE_FOLDER}/{bundle.REQUIREMENTS}"].decode().splitlines()
    pins = "\n".join(line for line in requirements if not line.startswith("#"))  # its comment names the exercise
    context = files[f"{IMAGE_FOLDER}/Dockerfile"] + b"\0" + pins.encode()
    return f"{name}:{hashlib.sha256(context).hexdigest()[:12]}"


def write_question(exercise: Exercise, out: Path, image: str | None = None, topic: str = DEFAULT_TOPIC) -> Written:
    """Check and write the question of `exercise` into the course folder `out`, replacing an earlier export of
    it; GraderError when it would leak, when the reference falls short of full marks, or when `out` holds
    another question of that name."""
    name = exercise.name
    question, course = f"questions/{name}", f"serverFilesCourse/{course_folder(name)}"

    def platform_files(wheel: str, python: str) -> dict:
        values = {"name": name, "folder": course_folder(name), "root_variable": ROOT_VARIABLE,
                  "python": python, "env": ENV}
        return {f"{question}/question.html": question_html(exercise), f"{question}/tests/run.sh": RUN.format(**values),
                f"{IMAGE_FOLDER}/Dockerfile": DOCKERFILE.format(**values)}

    built = bundle.build(exercise, f"grade export prairielearn {name}", platform_files)
    files = {}
    for path, data in built.files.items():
        if path.startswith(("exercises/", "solutions/")):
            files[f"{course}/{path}"] = data
        elif path == bundle.REQUIREMENTS:
            files[f"{IMAGE_FOLDER}/{path}"] = data
        elif path != built.wheel:  # the grader goes as its modules: the sandbox reads its own files
            files[path] = data
    # The modules the leak check reads are the ones written.
    modules = {path: text for path, text in built.texts.items() if path.startswith("grader/")}
    files.update({f"{course}/{path}": text.encode() for path, text in modules.items()})
    figures = exercise.solution_folder / FIGURES_MODULE
    if exercise.plots and figures.is_file():
        files[f"{course}/solutions/{name}/{FIGURES_MODULE}"] = figures.read_bytes()
    image = image_name(image, files)
    info = info_json(exercise, image, topic)
    files[f"{question}/info.json"] = info.encode()
    built.texts[f"{question}/info.json"] = info
    bundle.check(exercise, built)
    _install(Path(out), files, question, course, question_uuid(name))
    return Written(Path(out), sorted((path, len(data)) for path, data in files.items()), image)


def _install(out: Path, files: dict, question: str, course: str, own_uuid: str) -> None:
    """Write `files` under `out`: the question's and the course files' folders replaced whole (a file left
    from an earlier export, such as a removed suite, would still be graded with); the image's files one by one."""
    target = out / question / "info.json"
    if (out / question).exists():
        try:
            found = json.loads(target.read_text(encoding="utf-8")).get("uuid")
        except (OSError, ValueError, AttributeError):
            found = None
        if found != own_uuid:
            raise GraderError(f"{out / question} holds another question (its info.json has not this exercise's "
                              f"uuid {own_uuid}); remove it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".mlgrade-export-"))
    try:
        for path, data in files.items():
            where = staging / path
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_bytes(data)
            where.chmod(0o755 if path.endswith(".sh") else 0o644)
        for folder in (question, course):
            old = out / folder
            if old.exists():
                old.rename(staging / ".old")
                shutil.rmtree(staging / ".old")
            old.parent.mkdir(parents=True, exist_ok=True)
            (staging / folder).rename(old)
        for path in (p for p in files if p.startswith(f"{IMAGE_FOLDER}/")):
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / path, out / path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def instructions(written: Written, name: str) -> str:
    """What to do after the export, as lines of text."""
    out, image = written.out, written.image
    lines = [
        f"wrote {len(written.entries)} files into {out}: questions/{name}/, serverFilesCourse/{course_folder(name)}/ "
        f"and {IMAGE_FOLDER}/",
        "Then, on PrairieLearn:",
        "  1. build and push the grading image (again only when its tag changes):",
        f"       docker build --platform linux/amd64 -t {image} {out / IMAGE_FOLDER} && docker push {image}",
        f"  2. commit questions/{name}/ and serverFilesCourse/{course_folder(name)}/ to the course, sync it, "
        "and sync the image on the course's Sync page",
        f"  3. add the question {name} to an assessment",
    ]
    if "/" not in image.split(":", 1)[0]:
        lines.append(f"note: {image} names no account, so PrairieLearn's servers cannot pull it (a local "
                     "PrairieLearn can): export with --image YOURACCOUNT/mlgrade-grader to grade there")
    lines.append("Step by step: docs/prairielearn.md")
    return "\n".join(lines)


def course_problems(exercise: Exercise) -> list[str]:
    """Course files the grading needs and does not find: a fault of the grader's set-up, never the student's."""
    if not exercise.has_solutions():
        return [f"no solutions/{exercise.name}/ among the course files"]
    needed = [exercise.reference_file, *(exercise.hidden_suites / p.suite for p in exercise.parts)]
    needed += [exercise.quiz_key_file] if exercise.questions else []
    needed += [exercise.solution_folder / FIGURES_MODULE] if exercise.plots else []
    root = exercise.folder.parents[1]
    return [f"{path.relative_to(root)} is missing" for path in needed if not path.is_file()]


# -- results.json ---------------------------------------------------------------------------

def results(result: GradeResult, notes: tuple = ()) -> dict:
    """PrairieLearn's results.json from the results model, as students may see it (pass it through
    visibility.student_view first): gradable, the score as points / max points, a summary, and one test per
    cause of failure (see grouping.py) and per passed test, the figures with their part's first test."""
    points, max_points = result.score, result.max_score
    tests = []
    images = _images(result.artifacts.get("figures", []))
    for part in result.parts:
        entries = [_failed(part, group) for group in failure_groups(part)]
        entries += [_entry(part, t.name, t.score, t.max_score, t.message, t.output) for t in part.tests if t.passed]
        if entries and images.get(part.name):
            entries[0]["images"] = images[part.name]
        tests += entries
    return {"gradable": True, "score": min(1.0, max(0.0, points / max_points)) if max_points else 1.0,
            "points": points, "max_points": max_points, "message": summary(result, notes), "tests": tests}


def _failed(part: PartResult, group: Group) -> dict:
    more = f" (and {len(group.tests) - 1} more)" if len(group.tests) > 1 else ""
    message = (f"hint: {group.hint}\n" if group.hint else "") + (group.body() or "failed")
    output = ""
    if len(group.tests) > 1:
        output = f"The same cause in {len(group.tests)} of {len(part.tests)} checks: " + "; ".join(
            t.name for t in group.tests)
    if group.example.output.strip():
        output += ("\n\n" if output else "") + "printed:\n" + group.example.output
    # Sums of the tests' points, which are rounded to 4 places: to 2 places, 15.0002 is the 15 it stands for.
    return _entry(part, group.example.name + more, round(sum(t.score for t in group.tests), 2),
                  round(sum(t.max_score for t in group.tests), 2), message, output, printed=False)


def _entry(part: PartResult, name: str, points: float, max_points: float, message: str, output: str,
           printed: bool = True) -> dict:
    passed = sum(t.passed for t in part.tests)
    if printed and output.strip():
        output = "printed:\n" + output
    return {"name": f"{part.name}: {name}", "description": f"{part.name}: {passed} of {len(part.tests)} checks passed",
            "points": points, "max_points": max_points, "message": message, "output": output}


def _images(figures: list) -> dict:
    """Part name -> PrairieLearn's images (PNG data URLs), drawn as the feedback page draws them."""
    from ..render.charts import figure_chart

    found: dict = {}
    for data in figures:
        chart = figure_chart(data)
        if chart is None:
            continue
        title = str(data.get("title") or data.get("name", "figure"))
        notes = [str(n) for n in [*data.get("notes", []), *chart.notes]]
        found.setdefault(data.get("part"), []).append({
            "label": " ".join([title, *(f"({n})" for n in notes)]),
            "url": "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")})
    return found


def summary(result: GradeResult, notes: tuple = ()) -> str:
    """The top of the results: the score per part and the hints of the failed tests shown, in plain text."""
    lines = list(notes)
    if result.status != "graded":
        return "\n".join([*lines, f"Not graded: {result.error}"])
    lines.append(f"{result.exercise}: {result.score:g} / {result.max_score:g}")
    for part in result.parts:
        passed = sum(t.passed for t in part.tests)
        mark = "✓" if part.tests and passed == len(part.tests) else "✗"
        note = f"; {part.note}" if part.note else ""
        lines.append(f"{mark} {part.name}: {part.score:g} / {part.max_score:g}, "
                     f"{passed} of {len(part.tests)} checks passed{note}")
        lines += [f"    hint: {hint}" for hint in sorted({t.hint for t in part.tests if not t.passed and t.hint})]
    lines.append(f"(graded in {result.seconds:.2f} s; sandbox: {result.isolation})")
    return "\n".join(lines)


def render(result: GradeResult, notes: tuple = ()) -> str:
    """results.json as text, within PrairieLearn's size limit: should the figures and what tests printed
    make it larger, the figures go first, then all but the start of each test's output."""
    doc = results(result, notes)
    text = json.dumps(doc, indent=2)
    if len(text.encode()) > MAX_RESULTS_BYTES:
        for test in doc["tests"]:
            test.pop("images", None)
        doc["message"] += "\n(the figures were left out: the results would have been too large)"
        text = json.dumps(doc, indent=2)
    if len(text.encode()) > MAX_RESULTS_BYTES:
        for test in doc["tests"]:
            test["output"] = _cut(test["output"])
        text = json.dumps(doc, indent=2)
    return text


def _cut(text: str) -> str:
    return text if len(text) <= OUTPUT_CUT else text[:OUTPUT_CUT] + "\n... (cut)"


def not_gradable(why: str) -> str:
    """results.json for a submission the grader could not grade through its own fault: not gradable, so
    PrairieLearn neither scores it nor counts the attempt."""
    return json.dumps({"gradable": False, "format_errors": [
        f"The grader could not grade this submission: {why}. This is not your mistake: tell your instructor."]},
        indent=2)


def fault(exc: BaseException) -> str:
    """A grader's exception in one line for `not_gradable` (the traceback goes to the job's log only: a hidden
    suite's source may be in it)."""
    if isinstance(exc, GraderError):
        return str(exc)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}" + (f": {lines[0][:300]}" if lines else "")

