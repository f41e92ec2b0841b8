"""The `grade` command line: every command, in one place.

Each command's body imports what it needs when it runs, so that a student's
`grade exercise3` pays for nothing but grading.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .course import Course
from .errors import GraderError

ROOT_HELP = "Course root (default: the nearest folder upward holding exercises/)."


class UserError(click.ClickException):
    """A one-line error about the user's input; exit status 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        from .text import printable

        click.echo(f"grade: error: {printable(self.format_message())}", err=True)


class GradeGroup(click.Group):
    """`grade NAME ...` grades exercise NAME; other words are commands."""

    def parse_args(self, ctx, args):
        if args[:1] == ["help"]:  # what newcomers type first
            args = ["--help"]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["exercise", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            raise UserError(str(exc)) from None

    def format_usage(self, ctx, formatter):
        formatter.write_usage("grade", "EXERCISE [OPTIONS]  |  grade COMMAND [ARGS]")


class ExerciseCommand(click.Command):
    """The hidden `exercise` command, shown as students type it."""

    def format_usage(self, ctx, formatter):
        formatter.write_usage("grade", "EXERCISE [OPTIONS]")

    def make_context(self, info_name, args, parent=None, **extra):
        # Named after the exercise, so hints read "grade exercise3 --help".
        name = args[0] if args and not args[0].startswith("-") else info_name
        return super().make_context(name, args, parent, **extra)


def root_option(help: str = ROOT_HELP):
    """The one `--root` option every command that opens the course takes."""
    return click.option("--root", type=click.Path(file_okay=False, path_type=Path), help=help)


def open_course(root: Path | None) -> Course:
    """The course at `root`, or the one found upward from the current folder."""
    return Course(root) if root else Course.find()


def hide_hidden_option(help: str = 'Show hidden tests to students only as "hidden test failed".'):
    """The `--hide-hidden` flag of the commands that write student-facing reports."""
    return click.option("--hide-hidden", is_flag=True, help=help)


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Grade machine-learning lab exercises.

    \b
    grade exercise3                      grade your work in exercises/exercise3/
    grade exercise3 --submission PATH    grade a folder, a .py file or a notebook
    grade list                           list the exercises
    """
    from .sandbox.isolation import protect_grader

    protect_grader()  # before the key, the reference or any worker: no worker may read this process


# -- students -----------------------------------------------------------------

@cli.command("exercise", hidden=True, cls=ExerciseCommand)
@click.argument("name")
@click.option("--submission", type=click.Path(path_type=Path),
              help="A folder with the module or a notebook (and quiz.toml), a .py file, or a notebook (.ipynb).")
@root_option()
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the feedback page (self-contained HTML, with figures).")
@click.option("--gradescope", "gradescope_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Gradescope's results.json.")
@hide_hidden_option('Show hidden tests only as "hidden test failed" '
                    '(terminal, HTML, Gradescope; --json keeps everything).')
@click.option("--fail-under", type=float, default=None, help="Exit with status 1 when the score is below this.")
@click.option("--verbose", "-v", is_flag=True,
              help="Show every failing check in full (by default, failures with one cause are shown once).")
def grade_exercise(name, submission, root, json_path, html_path, gradescope_path, hide_hidden, fail_under, verbose):
    """Grade one exercise."""
    from .sandbox.session import Sandbox
    from .submissions import load_submission
    from .text import printable

    exercise = open_course(root).exercise(name)
    sub = load_submission(exercise, submission or exercise.folder)
    for note in sub.notes:
        click.echo(f"note: {printable(note)}")  # it names the student's files
    # Started before numpy and pytest are imported here: the worker's own
    # start-up (an interpreter and numpy) runs beside those imports.
    sandbox = Sandbox.for_exercise(exercise, sub.source)
    sandbox.start()
    from .sandbox.isolation import weaker_than_asked

    if note := weaker_than_asked(sandbox.level):
        click.echo(f"note: {note}")
    try:
        from .grading import grade
    except BaseException:  # Ctrl-C meanwhile: grade() would have closed it
        sandbox.close()
        raise
    from .render import terminal
    from .results import save_json, unwritable, write_atomic
    from .visibility import student_view

    result = grade(exercise, sub, figures=html_path is not None, sandbox=sandbox)
    unwritten = []  # a report that cannot be written costs none of the others, nor the terminal's

    def write(path, save):
        try:
            save(path)
        except OSError as exc:
            unwritten.append(unwritable(exc, path))

    if json_path:  # first: a terminal that fails to print must not cost the report
        write(json_path, lambda path: save_json(result, path))
    shown = student_view(result, hide_hidden)
    if html_path:
        from .render import html

        write(html_path, lambda path: write_atomic(path, html.render(shown)))
    if gradescope_path:
        from .render import gradescope

        write(gradescope_path, lambda path: write_atomic(path, gradescope.render(shown)))
    click.echo(terminal.render(shown, color=sys.stdout.isatty(), verbose=verbose))
    if unwritten:
        raise GraderError("; ".join(unwritten))
    if fail_under is not None and result.score < fail_under:
        sys.exit(1)


@cli.command("list")
@root_option()
def list_exercises(root):
    """List the exercises of the course with their titles and points."""
    course = open_course(root)
    for name in course.names():
        ex = course.exercise(name)
        parts = ", ".join(f"{p.name} {p.points:g}" for p in ex.parts)
        quiz = f", quiz {ex.quiz_points:g}" if ex.quiz_points else ""
        click.echo(f"{name:<12} {ex.title}  [{ex.max_score:g} points: {parts}{quiz}]")


# -- a class --------------------------------------------------------------------

def grades_options(func):
    """The options of `batch` and `publish` for the LMS file and late penalties (batch/grades.py); the output
    folder remembers each one given, so that it holds until given again."""
    file = click.Path(path_type=Path)  # read by batch/grades.py, whose errors are one line
    for option in reversed((
        click.option("--roster", type=file, default=None,
                     help="The course's students (CSV: a Canvas or Moodle export, or any list with a login, "
                          "ID or email column), to write an LMS import file; needs --lms."),
        click.option("--lms", type=click.Choice(["canvas", "moodle"]), default=None,
                     help="Write DIR/canvas.csv or DIR/moodle.csv for the LMS's grade import (needs --roster)."),
        click.option("--extensions", type=file, default=None,
                     help="Students' own deadlines (CSV: id, and deadline or days added to the exercise's)."),
        click.option("--submitted-at", type=file, default=None,
                     help="Submission times (CSV: id, submitted_at), instead of the entries' file times."),
    )):
        func = option(func)
    return func


@cli.command("batch")
@click.argument("name")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the reports.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Grading processes (default: the CPU count).")
@click.option("--force", is_flag=True, help="Grade every student again, even when nothing changed.")
@hide_hidden_option()
@root_option()
@click.option("--cluster", metavar="ADDRESS", default=None,
              help="Grade on a Dask cluster: its scheduler's address (tcp://host:8786) or scheduler file, "
                   "or local:N for N worker processes here. Needs mlgrade[cluster].")
@click.option("--student-seconds", type=click.FloatRange(min=1), default=600, show_default=True,
              help="Wall-clock time one student's grading may take; past it, that student is reported as not "
                   "graded and the batch goes on.")
@grades_options
def batch(name, submissions, out, jobs, force, hide_hidden, root, cluster, student_seconds, roster, lms, extensions,
          submitted_at):
    """Grade every entry of SUBMISSIONS (folders, .py, .ipynb or .zip; one per
    student, named by the student's id) and write the reports to --out."""
    from .batch import grades
    from .batch.outputs import GRADEBOOK, read_reports, write_class
    from .batch.run import run_batch

    if cluster is not None:
        from .batch.cluster import parse_address

        parse_address(cluster)
        if jobs is not None:
            raise UserError("--jobs and --cluster do not go together: the cluster's workers grade")
    course = open_course(root)
    exercise = course.exercise(name)
    given = grades.option_settings(roster, lms, extensions, submitted_at)
    changed = grades.remember(out, grades.batch_settings(course.root, exercise.name, submissions, out, given))
    before = grades.gradebook_stamp(out / GRADEBOOK)
    from .text import printable

    summary = run_batch(exercise, submissions, out, jobs=jobs, force=force, hide_hidden=hide_hidden, cluster=cluster,
                        student_seconds=student_seconds)
    click.echo(printable(summary, lines=True))  # it names students' entries
    # run_batch writes the class files only when it graded something: new settings alone need them here.
    if changed and grades.gradebook_stamp(out / GRADEBOOK) == before:
        write_class(out, [r for _, r in read_reports(out)])
    found = grades.notes(out)
    if found:
        click.echo(found)


@cli.command("publish")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@hide_hidden_option()
@grades_options
def publish(out, hide_hidden, roster, lms, extensions, submitted_at):
    """Rebuild feedback pages, results.json files, gradebook.csv and summary.html
    in OUT from the students' report.json files, without grading again (late
    penalties and the LMS file too, with the options given now or before)."""
    from .batch import grades
    from .batch.outputs import FEEDBACK, GRADEBOOK, GRADESCOPE, REPORT, SUMMARY, publish_reports

    if any(out.glob(f"*/{REPORT}")):  # else publish_reports says what is wrong, and nothing is remembered
        grades.remember(out, grades.option_settings(roster, lms, extensions, submitted_at))
    count = publish_reports(out, hide_hidden)
    click.echo(f"published {count} students in {out}: {GRADEBOOK}, {SUMMARY}, <id>/{FEEDBACK}, <id>/{GRADESCOPE}")
    found = grades.notes(out)
    if found:
        click.echo(found)


# -- instructors' tools -----------------------------------------------------------

@cli.command("check")
@click.argument("name")
@root_option()
@click.option("--no-mutation", is_flag=True, help="Skip the mutation analysis (a quick lint).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes grading mutants (default: one per core).")
def check(name, root, no_mutation, jobs):
    """Check an exercise before students get it: manifest, reference, stubs, quiz key, and how good its hidden
    tests are."""
    from .authoring.check import check_exercise

    report = check_exercise(open_course(root), name, mutation=not no_mutation, jobs=jobs)
    click.echo(report.render(color=sys.stdout.isatty()))
    if not report.ok:
        sys.exit(1)


@cli.command("similarity")
@click.argument("name")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for similarity.html and similarity.csv (default: similarity-NAME here).")
@click.option("--reference", "references", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="An earlier term's submissions folder, compared with this term's (repeatable).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Flag pairs sharing at least this share of their graded code.  [default: 0.6]")
@click.option("--min-tokens", type=click.IntRange(min=1), default=None,
              help="Leave out functions shorter than this, once the stub's code is taken away.  [default: 60]")
@root_option()
def similarity(name, submissions, out, references, threshold, min_tokens, root):
    """Flag pairs of SUBMISSIONS (as `grade batch` reads them) whose graded functions share much code, for a
    person to look at; no score changes. Needs mlgrade[similarity] (copydetect)."""
    import importlib.util
    import time

    from . import similarity as sim
    from .render.similarity import csv_text, html_page
    from .results import unwritable, write_atomic
    from .text import printable

    if importlib.util.find_spec("copydetect") is None:
        raise UserError("grade similarity needs copydetect: pip install 'mlgrade[similarity]'")
    started = time.monotonic()
    exercise = open_course(root).exercise(name)
    codes, skipped = sim.read_codes(exercise, submissions)
    for folder in references:
        more, unread = sim.read_codes(exercise, folder, reference=True)
        codes += more
        skipped += unread
    report = sim.compare(exercise, codes, sim.THRESHOLD if threshold is None else threshold,
                         sim.MIN_TOKENS if min_tokens is None else min_tokens, skipped)
    out = out or Path(f"similarity-{exercise.name}")
    try:
        write_atomic(out / "similarity.html", html_page(report))
        write_atomic(out / "similarity.csv", csv_text(report))
    except OSError as exc:
        raise UserError(unwritable(exc, out)) from None
    flagged = f"{len(report.pairs)} pair{'' if len(report.pairs) == 1 else 's'}"
    lines = [f"compared {report.compared} submissions" + (f" and {report.references} of earlier terms"
                                                           if report.references else "")
             + f" in {time.monotonic() - started:.1f} s: {flagged} at or above "
             f"{report.threshold:.0%} shared code (flags to look at, not verdicts)"]
    for pair in report.pairs[:20]:
        each = ", ".join(f"{m.function} {m.similarity:.0%}" for m in pair.matches)
        lines.append(f"  {pair.a} ~ {pair.b}{' (earlier term)' if pair.reference else ''}: "
                     f"{pair.similarity:.0%} ({each})")
    if len(report.pairs) > 20:
        lines.append(f"  and {len(report.pairs) - 20} more pairs in the report")
    for sid, why in skipped:
        lines.append(f"  not compared: {sid}: {why}")
    lines.append(f"wrote {out / 'similarity.html'} and {out / 'similarity.csv'}")
    click.echo(printable("\n".join(lines), lines=True))  # it names students' entries


@cli.command("new")
@click.argument("name")
@root_option("Course root (default: the nearest folder upward holding exercises/; created if given and missing).")
@click.option("--title", default=None, help="The exercise's title (default: NAME).")
@click.option("--module", default=None, help="The module students edit, without .py (default: NAME, with - as _).")
@click.option("--function", "functions", multiple=True,
              help="A function to grade, one part each; repeat for more (default: predict).")
def new(name, root, title, module, functions):
    """Scaffold a new exercise: manifest, stubs, reference, hidden suites, quiz and key, README."""
    from .authoring.scaffold import scaffold

    if root is not None:
        (root / "exercises").mkdir(parents=True, exist_ok=True)
    course = open_course(root)
    module = module or name.replace("-", "_")
    written = scaffold(course.root, name, title or name, module, list(functions) or ["predict"])
    for path in written:
        click.echo(f"  wrote {path.relative_to(course.root)}")
    where = f" --root {root}" if root else ""
    click.echo(f"Next: edit them, then run `grade check {name}{where}` (it passes as scaffolded).")


@cli.command("release")
@click.argument("name")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the bundle into (it becomes a course root).")
@root_option()
def release(name, out, root):
    """Write the student bundle of exercise NAME into OUT/exercises/NAME/."""
    from .authoring.release import write_bundle

    target, files = write_bundle(open_course(root).exercise(name), out)
    click.echo(f"wrote {target}: {', '.join(sorted(files))}")
    click.echo(f"and the grader with its set-up README in {out}")
    click.echo(f"students set up and grade with: cd {out} && python3 -m venv .venv && .venv/bin/pip install -e . "
               f"&& .venv/bin/grade {name}")


@cli.group("export")
def export():
    """Package an exercise's grader for a platform that grades each submission in a container of its own."""


@export.command("gradescope")
@click.argument("name")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The zip to write (to upload as Gradescope's autograder).")
@root_option()
def export_gradescope(name, out, root):
    """Write the Gradescope autograder of exercise NAME: setup.sh, run_autograder,
    the grader, the exercise and its solutions, and nothing else of the course."""
    from .export.gradescope import write_autograder
    from .export.settings import gradescope_settings

    exercise = open_course(root).exercise(name)
    written = write_autograder(exercise, out)
    for path, size in written.entries:
        click.echo(f"  {size:>9,}  {path}")
    click.echo(f"wrote {written.path}: {len(written.entries)} files, {written.size:,} bytes")
    click.echo(gradescope_settings(exercise))


@export.command("prairielearn")
@click.argument("name")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The PrairieLearn course to write into, or a folder to copy over it.")
@click.option("--image", default=None,
              help="The grading image info.json names, e.g. YOURACCOUNT/mlgrade-grader (Docker Hub); without a tag, "
                   "the tag names the packages in it. Default: mlgrade-grader.")
@click.option("--topic", default="Machine learning", show_default=True,
              help="The question's topic (one of the course's infoCourse.json).")
@root_option()
def export_prairielearn(name, out, image, topic, root):
    """Write exercise NAME as a PrairieLearn question graded externally: questions/NAME/ (info.json,
    question.html, the entrypoint), serverFilesCourse/mlgrade-NAME/ (the grader, the exercise and its
    solutions, nothing else of the course) and mlgrade-image/ (the grading image's Dockerfile)."""
    from .export.prairielearn import instructions, write_question

    exercise = open_course(root).exercise(name)
    written = write_question(exercise, out, image=image, topic=topic)
    for path, size in written.entries:
        click.echo(f"  {size:>9,}  {path}")
    click.echo(instructions(written, exercise.name))


@export.command("run", hidden=True)
@click.argument("platform", type=click.Choice(["gradescope", "prairielearn"]))
@click.argument("name")
def export_run(platform, name):
    """Grade the submission in this container and write its results (what run_autograder or run.sh runs)."""
    from .export.runner import run_gradescope, run_prairielearn

    click.echo(run_gradescope(name) if platform == "gradescope" else run_prairielearn(name))


@cli.command("build-notebook")
@click.argument("name")
@root_option()
@click.option("--check", is_flag=True, help="Write nothing; exit with status 1 when the notebook is out of date.")
def build_notebook(name, root, check):
    """Build the lab notebook of exercise NAME from its sources."""
    from .authoring.lab_notebook import is_up_to_date, notebook_text
    from .results import write_atomic

    exercise = open_course(root).exercise(name)
    path = exercise.folder / exercise.notebook_file
    if check:
        if not is_up_to_date(exercise):
            click.echo(f"{path} is out of date: run `grade build-notebook {name}`", err=True)
            sys.exit(1)
        click.echo(f"{path} is up to date")
        return
    write_atomic(path, notebook_text(exercise))
    click.echo(f"wrote {path}")


main = cli
