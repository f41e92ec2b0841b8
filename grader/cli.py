"""The `grade` command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .course import Course, GraderError


class UserError(click.ClickException):
    """A one-line error about the user's input; exit status 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"grade: error: {self.format_message()}", err=True)


# Subcommands live in modules of their own, imported only when used: a student's
# `grade exercise3` should not pay for batch grading's imports.
LAZY_COMMANDS = {
    "batch": "grader.batch:batch_command",
    "build-notebook": "grader.lab_notebook:build_notebook_command",
    "check": "grader.lint:check",
    "new": "grader.scaffold:new",
    "publish": "grader.publish:publish_command",
    "release": "grader.release:release_command",
}


class GradeGroup(click.Group):
    """`grade NAME ...` grades exercise NAME; other words are subcommands."""

    def parse_args(self, ctx, args):
        if args[:1] == ["help"]:  # what newcomers type first
            args = ["--help"]
        if args and args[0] not in self.commands and args[0] not in LAZY_COMMANDS and not args[0].startswith("-"):
            args = ["exercise", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx):
        return sorted([*self.commands, *LAZY_COMMANDS])

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, attr = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

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


def course_option(f):
    return click.option("--root", type=click.Path(file_okay=False, path_type=Path),
                        help="Course root (default: the nearest folder upward holding exercises/).")(f)


def open_course(root: Path | None) -> Course:
    return Course(root) if root else Course.find()


@click.group(cls=GradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Grade machine-learning lab exercises.

    \b
    grade exercise3                      grade your work in exercises/exercise3/
    grade exercise3 --submission PATH    grade a folder, a .py file or a notebook
    grade list                           list the exercises
    """


@cli.command("exercise", hidden=True, cls=ExerciseCommand)
@click.argument("name")
@click.option("--submission", type=click.Path(path_type=Path), help="A folder with the module or a notebook (and quiz.toml), a .py file, or a notebook (.ipynb).")
@course_option
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report as JSON.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the feedback page (self-contained HTML, with figures).")
@click.option("--gradescope", "gradescope_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write Gradescope's results.json.")
@click.option("--hide-hidden", is_flag=True, help='Show hidden tests only as "hidden test failed" (terminal, HTML, Gradescope; --json keeps everything).')
@click.option("--fail-under", type=float, default=None, help="Exit with status 1 when the score is below this.")
def grade_exercise(name, submission, root, json_path, html_path, gradescope_path, hide_hidden, fail_under):
    """Grade one exercise."""
    from .grading import grade
    from .publish import student_view
    from .render import terminal
    from .results import save_json, write_atomic
    from .submission import load_submission

    course = open_course(root)
    exercise = course.exercise(name)
    sub = load_submission(exercise, submission or exercise.folder)
    for note in sub.notes:
        click.echo(f"note: {note}")
    result = grade(exercise, sub, figures=html_path is not None)
    if json_path:  # first: a terminal that fails to print must not cost the report
        save_json(result, json_path)
    shown = student_view(result, hide_hidden)
    if html_path:
        from .render import html

        write_atomic(html_path, html.render(shown))
    if gradescope_path:
        from .render import gradescope

        write_atomic(gradescope_path, gradescope.render(shown))
    click.echo(terminal.render(shown, color=sys.stdout.isatty()))
    if fail_under is not None and result.score < fail_under:
        sys.exit(1)


@cli.command("list")
@course_option
def list_exercises(root):
    """List the exercises of the course with their titles and points."""
    course = open_course(root)
    for name in course.names():
        ex = course.exercise(name)
        parts = ", ".join(f"{p.name} {p.points:g}" for p in ex.parts)
        quiz = f", quiz {ex.quiz_points:g}" if ex.quiz_points else ""
        click.echo(f"{name:<12} {ex.title}  [{ex.max_score:g} points: {parts}{quiz}]")


main = cli

