"""The instructor's class summary page: the score histogram, pass rates per
part and per test, and the failing messages students met most often. Every
number shown is a count or average of scores copied from the results."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from html import escape

from ..results import IMPORT_TEST, GradeResult, class_statistics
from .gradebook import part_names
from .html import image, page, points

TOP_MESSAGES = 12
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def message_pattern(message: str) -> str:
    """What failing messages have in common: the hint when there is one, else
    the first line with its numbers replaced by #."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    hints = [line for line in lines if line.startswith("hint:")]
    if hints:
        return hints[0]
    return _NUMBER.sub("#", lines[0])[:200] if lines else "failed"


def render(results: list[GradeResult]) -> str:
    """The summary page for a class (the results of every student)."""
    graded = [r for r in results if r.status == "graded"]
    errors = [r for r in results if r.status != "graded"]
    exercise = results[0].exercise if results else ""
    top = max((r.max_score for r in results), default=100)
    out = [f"<h1>{escape(exercise)}: class summary</h1>",
           f"<p>{len(results)} students: {len(graded)} graded, {len(errors)} not graded.</p>"]
    stats = class_statistics(results)
    if graded:
        out.append(f"<p>Score out of {points(top)}: mean {stats.mean:.1f}, "
                   f"median {points(stats.median)}, lowest {points(stats.lowest)}, "
                   f"highest {points(stats.highest)}.</p>")
        from .charts import histogram_png

        totals = [r.score for r in graded]
        out.append(f"<figure>{image(histogram_png(totals, top), 'score histogram')}"
                   "<figcaption>Scores of the graded students</figcaption></figure>")
        out.append(_parts(stats))
        out.append(_tests(graded))
        out.append(_messages(graded))
    if errors:
        rows = "".join(f"<tr><td>{escape(r.student)}</td><td>{escape(r.error)}</td></tr>"
                       for r in sorted(errors, key=lambda r: r.student))
        out.append(f"<h2>Not graded</h2><table><tr><th>student</th><th>reason</th></tr>{rows}</table>")
    return page(f"{exercise} class summary", "\n".join(out))


def _bar(fraction: float) -> str:
    return f'<span class="bar"><span style="width:{100 * fraction:.0f}%"></span></span> {100 * fraction:.0f}%'


def _parts(stats) -> str:
    rows = "".join(
        f'<tr><td>{escape(part.name)}</td><td class="num">{part.mean:.1f} / {points(part.max_score)}</td>'
        f"<td>{_bar(part.full / part.count)}</td></tr>"
        for part in stats.parts
    )
    return ('<h2>Parts</h2><table><tr><th>part</th><th class="num">mean points</th>'
            "<th>students with full marks</th></tr>"
            f"{rows}</table>")


def _tests(graded) -> str:
    runs = {name: Counter() for name in part_names(graded)}  # part -> test -> runs, in part order
    passes = Counter()
    for result in graded:
        for part in result.parts:
            for test in part.tests:
                if test.name == IMPORT_TEST:  # not a test of the suites: counted under failures, once
                    continue
                runs[part.name][test.name] += 1
                passes[part.name, test.name] += test.passed
    rows = "".join(
        f"<tr><td>{escape(part)}</td><td>{escape(name)}</td><td>{_bar(passes[part, name] / count)}</td>"
        f'<td class="num">{passes[part, name]} of {count}</td></tr>'
        for part, tests in runs.items() for name, count in tests.items()
    )
    unimported = sum(any(t.name == IMPORT_TEST for p in r.parts for t in p.tests) for r in graded)
    one = unimported == 1
    left_out = (f"<p>{unimported} {'student' if one else 'students'} whose module could not be imported "
                f"(every test failed) {'is' if one else 'are'} not counted in this table.</p>") if unimported else ""
    return ('<h2>Tests</h2><table><tr><th>part</th><th>test</th><th>pass rate</th><th class="num">passed</th></tr>'
            f"{rows}</table>{left_out}")


def _messages(graded) -> str:
    students = defaultdict(set)
    for result in graded:
        for part in result.parts:
            for test in part.tests:
                if not test.passed:
                    where = "every part" if test.name == IMPORT_TEST else part.name
                    students[(where, message_pattern(test.message))].add(result.student)
    common = sorted(students.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP_MESSAGES]
    if not common:
        return "<h2>Most common failures</h2><p>No test failed.</p>"
    rows = "".join(
        f'<tr><td class="num">{len(who)}</td><td>{escape(part)}</td><td><pre>{escape(pattern)}</pre></td></tr>'
        for (part, pattern), who in common
    )
    return ('<h2>Most common failures</h2><table><tr><th class="num">students</th><th>part</th><th>message</th></tr>'
            f"{rows}</table>")
