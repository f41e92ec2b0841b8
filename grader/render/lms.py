"""Grades for a learning-management system: the course's roster matched to the
batch's submissions, and the CSV file Canvas or Moodle imports.

A roster is a CSV file (a Canvas gradebook export, a Moodle grades export, or
any list of students) with a header row. Its columns are recognised by name,
whatever the case: see ROLES. A submission's id (its entry's name) matches the
roster row that has it, ignoring case and surrounding spaces, in an identity
column (SIS Login ID, SIS User ID, ID, email address, or the part of the email
address before the @). Every cell is neutralised as gradebook.csv's are.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ..errors import GraderError
from .gradebook import text_cell

# Column roles, and the header names (lower case, single spaces) that give them.
ROLES = {
    "name": ("student", "name", "full name", "student name"),
    "first": ("first name", "given name"),
    "last": ("last name", "surname", "family name"),
    "id": ("id",),
    "sis_user": ("sis user id", "id number", "student number", "student id"),
    "login": ("sis login id", "login id", "login", "username", "user name"),
    "email": ("email address", "email", "e-mail", "e-mail address"),
    "section": ("section",),
}
IDENTITIES = ("login", "sis_user", "id", "email")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# What Moodle's import maps its identifier column to, best first.
MOODLE_IDENTIFIERS = (("email", "Email address"), ("sis_user", "ID number"), ("login", "Username"))
LMS = ("canvas", "moodle")


@dataclass
class Roster:
    """A roster's header, which column plays which role, and its student rows."""

    name: str  # the file's name, for messages
    header: list[str]
    columns: dict[str, int]
    rows: list[list[str]]

    def value(self, row: list[str], role: str) -> str:
        index = self.columns.get(role)
        return row[index].strip() if index is not None and index < len(row) else ""

    def student_name(self, row: list[str]) -> str:
        """The name as Canvas writes it ("Last, First"), from one name column or first and last names."""
        if "name" in self.columns:
            return self.value(row, "name")
        return ", ".join(v for v in (self.value(row, "last"), self.value(row, "first")) if v)

    def describe(self, row: list[str]) -> str:
        """A roster student, for a list a person reads: the name and the first identity the row has."""
        role = next((r for r in IDENTITIES if self.value(row, r)), None)
        ident = f"{self.header[self.columns[role]].strip()} {self.value(row, role)}" if role else ""
        name = self.student_name(row)
        return f"{name} ({ident})" if name and ident else name or ident

    def keys(self, row: list[str]) -> set[str]:
        """What a submission id may be to match this row."""
        found = {self.value(row, role).casefold() for role in IDENTITIES} - {""}
        email = self.value(row, "email").casefold()
        if "@" in email:
            found.add(email.split("@", 1)[0])
        return found


def _normal(header: str) -> str:
    return " ".join(header.replace("_", " ").casefold().split())


def parse_roster(text: str, name: str) -> Roster:
    """The roster in CSV `text` (comma, semicolon or tab separated); GraderError when it has no column that
    identifies students. Rows without any identity are left out (Canvas's "Points Possible" row)."""
    # The header's most frequent separator: Excel writes ; where the decimal mark is a comma. (csv.Sniffer
    # guesses quoting too, and guesses it wrong on a header without quotes.)
    first = text.split("\n", 1)[0]
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=max(",;\t", key=first.count)))
    except csv.Error as exc:  # a cell over the csv module's size limit, say
        raise GraderError(f"{name}: not a CSV file the roster can be read from ({exc})") from None
    if not rows:
        raise GraderError(f"{name}: the roster is empty (expected a header row, then a row per student)")
    header = rows[0]
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        role = next((r for r, names in ROLES.items() if _normal(cell) in names), None)
        if role and role not in columns:
            columns[role] = index
    if not set(IDENTITIES) & set(columns):
        raise GraderError(f"{name}: no roster column identifies students (expected one of SIS Login ID, "
                          f"SIS User ID, ID, Login, Username, ID number, Email address; found: "
                          f"{', '.join(h.strip() for h in header) or 'none'})")
    roster = Roster(name, header, columns, [])
    roster.rows = [row for row in rows[1:] if roster.keys(row)]
    return roster


@dataclass
class Matching:
    """Which roster row each submission belongs to, and what did not fit."""

    students: dict[int, str] = field(default_factory=dict)  # roster row -> submission id
    unmatched: list[str] = field(default_factory=list)  # submissions of no roster student
    ambiguous: dict[str, list[int]] = field(default_factory=dict)  # a submission several rows could own
    shared: dict[int, list[str]] = field(default_factory=dict)  # a row that several submissions match
    missing: list[int] = field(default_factory=list)  # roster rows without a submission


def match(roster: Roster, submissions: list[str]) -> Matching:
    """Match submission ids to roster rows; a submission is exported only when it and its row match each
    other alone (two rows with one id, or two submissions for one student, are listed instead)."""
    owners: dict[str, list[int]] = {}
    for index, row in enumerate(roster.rows):
        for k in roster.keys(row):
            owners.setdefault(k, []).append(index)
    result, claims = Matching(), {}
    for sid in sorted(submissions):
        rows = owners.get(sid.strip().casefold(), [])
        if not rows:
            result.unmatched.append(sid)
        elif len(rows) > 1:
            result.ambiguous[sid] = rows
        else:
            claims.setdefault(rows[0], []).append(sid)
    for index, sids in claims.items():
        if len(sids) == 1:
            result.students[index] = sids[0]
        else:
            result.shared[index] = sids
    taken = set(result.students) | set(result.shared) | {i for rows in result.ambiguous.values() for i in rows}
    result.missing = [i for i in range(len(roster.rows)) if i not in taken]
    return result


def assignment_header(roster: Roster, exercise: str) -> str:
    """The roster's own column for the exercise when it has one ("exercise3 (1234)" in a Canvas export, so
    that Canvas updates that assignment; "Assignment: exercise3 (Real)" in Moodle's), else the exercise's name
    (Canvas then creates an assignment of that name)."""
    for cell in roster.header:
        bare = re.sub(r"^[^:()]*:\s*", "", re.sub(r"\s*\([^()]*\)\s*$", "", cell.strip()))
        if bare.casefold() == exercise.casefold() and bare != cell.strip():
            return cell.strip()
    return exercise


def require(roster: Roster, lms: str) -> None:
    """GraderError unless the roster has a column `lms` finds its students by."""
    if lms == "canvas" and not {"id", "sis_user", "login"} & set(roster.columns):
        raise GraderError(f"{roster.name}: Canvas finds students by ID, SIS User ID or SIS Login ID, and the "
                          "roster has none of those columns")
    if lms == "moodle" and not {r for r, _ in MOODLE_IDENTIFIERS} & set(roster.columns):
        raise GraderError(f"{roster.name}: Moodle finds students by email address, ID number or username, and "
                          "the roster has none of those columns")


def render_canvas(roster: Roster, matching: Matching, grades: dict, exercise: str, max_points: float) -> str:
    """Canvas's gradebook import: its five identity columns and the exercise's, a "Points Possible" row, then
    every roster student; `grades`: submission id -> points, or None for no grade (a blank cell, which Canvas
    leaves ungraded)."""
    require(roster, "canvas")
    rows = [[*CANVAS_COLUMNS, assignment_header(roster, exercise)], ["Points Possible", "", "", "", "", max_points]]
    for index, row in enumerate(roster.rows):
        rows.append([roster.student_name(row), *(roster.value(row, r) for r in ("id", "sis_user", "login", "section")),
                     grades.get(matching.students.get(index))])
    return _csv(rows)


def render_moodle(roster: Roster, matching: Matching, grades: dict, feedback: dict, exercise: str) -> str:
    """Moodle's grade import (Grades > Import > CSV file): an identifier column, the exercise's grade and a
    feedback column, a row per roster student; map the identifier to the user field of the same name."""
    require(roster, "moodle")
    role, title = next((r, t) for r, t in MOODLE_IDENTIFIERS if r in roster.columns)
    rows = [[title, assignment_header(roster, exercise), "Feedback"]]
    for index, row in enumerate(roster.rows):
        sid = matching.students.get(index)
        rows.append([roster.value(row, role), grades.get(sid), feedback.get(sid, "")])
    return _csv(rows)


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else f"{v:g}" if isinstance(v, float) else text_cell(str(v)) for v in row])
    return buffer.getvalue()


def report(roster: Roster, matching: Matching, lms: str, file: str, ungraded: list[str]) -> list[str]:
    """What an instructor must look at before importing `file`: the matching's leftovers, one per line.
    `ungraded`: matched submissions whose grading failed (their cells are blank)."""
    blank = f"blank in {file}" + (", which Canvas leaves ungraded" if lms == "canvas" else "")
    count = f"{len(roster.rows)} {'student' if len(roster.rows) == 1 else 'students'}"
    lines = [f"roster {roster.name}: {count}, {len(matching.students)} matched a submission"]
    sections = [
        (f"submissions that match no roster student (not in {file})", matching.unmatched),
        (f"submissions that match several roster students (not in {file})",
         [f"{sid}: {'; '.join(roster.describe(roster.rows[i]) for i in rows)}"
          for sid, rows in matching.ambiguous.items()]),
        (f"roster students matched by several submissions ({blank})",
         [f"{roster.describe(roster.rows[i])}: {', '.join(sids)}" for i, sids in matching.shared.items()]),
        (f"roster students with no submission ({blank})", [roster.describe(roster.rows[i]) for i in matching.missing]),
        (f"submissions that could not be graded ({blank})", ungraded),
    ]
    for title, items in sections:
        if items:
            lines.append(f"  {title}: {len(items)}")
            lines += [f"    {item}" for item in items]
    if len(lines) == 1:
        lines.append("  every submission matched one roster student, and every roster student a submission")
    return lines
