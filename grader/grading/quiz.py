"""The multiple-choice quiz: students answer in quiz.toml, the key lives in solutions/."""
from __future__ import annotations

from ..course import Exercise, load_toml
from ..errors import GraderError
from ..results import PartResult, TestResult

SHOWN_CHARACTERS = 40  # of a wrong answer, quoted back in its message


def normalise(answer) -> str:
    return str(answer).strip().upper().rstrip(".)")


def shown(value) -> str:
    """A student's answer as a message may quote it: one short printable line
    (control characters escaped, so an answer cannot repaint a terminal)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except (ValueError, RecursionError):  # an integer too long to print, lists nested too deeply
        text = f"a {type(value).__name__} too large to show"
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…"


def form_problem(q, raw) -> str:
    """What is wrong with the form of an answer (not with its letter), or ""."""
    if not isinstance(raw, str):  # q1 = 3, q1 = ["B"]: TOML values that are not text
        return f"{shown(raw)} is not a letter: write the answer in quotes, like {q.id} = \"B\""
    given = normalise(raw)
    if q.choices and given and given not in q.choices:
        return f"'{shown(given)}' is not one of the choices {', '.join(q.choices)}"
    return ""


def check_answers(exercise: Exercise, answers: dict | None) -> list[str]:
    """Problems with the answers' form alone (no key needed): the public self-check."""
    problems = []
    answers = answers or {}
    for q in exercise.questions:
        raw = answers.get(q.id, "")
        wrong_form = form_problem(q, raw)
        if isinstance(raw, str) and not normalise(raw):
            problems.append(f"{q.id}: no answer yet")
        elif wrong_form:
            problems.append(f"{q.id}: {wrong_form}")
    return problems


def grade_quiz(exercise: Exercise, answers: dict | None, key: dict, unreadable: bool = False) -> PartResult:
    """One test per question, equal points; unanswered or invalid answers score 0
    (`unreadable`: the answers file could not be read, which each question then says)."""
    part = PartResult("quiz", exercise.quiz_points)
    if not exercise.questions:
        return part
    each = exercise.quiz_points / len(exercise.questions)
    answers = answers or {}
    for q in exercise.questions:
        raw = answers.get(q.id, "")
        given = normalise(raw) if isinstance(raw, str) else ""
        right = normalise(key.get(q.id, ""))
        if not right:
            raise GraderError(f"quiz key has no answer for {q.id}")
        message = form_problem(q, raw)
        if not message and not given:
            message = "no answer: quiz.toml could not be read" if unreadable else "no answer given"
        elif not message and given != right:
            message = f"'{shown(given)}' is not correct"
        passed = not message
        part.tests.append(TestResult(q.id, passed, each if passed else 0.0, each, message, hidden=False))
    return part


def load_key(exercise: Exercise) -> dict:
    return load_toml(exercise.quiz_key_file)
