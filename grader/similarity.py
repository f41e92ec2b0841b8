"""Similarity flags: pairs of a class's submissions that share more of a graded
function than honest work explains, for an instructor to look at.

Flags, never verdicts: nothing here reads or changes a grade. The
fingerprinting is copydetect's (winnowed k-grams of the code with names,
strings and comments normalised away, so renaming variables hides nothing).
What is ours is the unit compared: each graded function of a submission
against the same function of every other submission (and of earlier terms'
submissions, given as references), with the stub's code subtracted as
boilerplate, and functions too short to tell apart left out (a one-line
sigmoid is the same in every honest submission).
"""
from __future__ import annotations

import ast
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import Exercise
from .errors import GraderError
from .submissions.entries import open_entry, scan
from .submissions.load import load_submission

THRESHOLD = 0.6  # a pair is flagged at or above this similarity
MIN_TOKENS = 60  # a function with fewer tokens than this, once the stub's are taken away, is not compared
NOISE = 25  # copydetect's defaults: k-grams of 25 tokens, every shared run of 25 or more found
GUARANTEE = 25


@dataclass(frozen=True)
class Code:
    """One submission's graded functions: name -> source text."""

    id: str
    functions: dict
    reference: bool = False  # an earlier term's: compared with this term's, never flagged against its own


@dataclass(frozen=True)
class Match:
    """One function shared by a pair: the share of each side's tokens found in the other, and where."""

    function: str
    similarity: float  # the larger of the two shares
    share_a: float
    share_b: float
    spans_a: tuple  # (start, end) character spans of the shared code in each side's source
    spans_b: tuple


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float  # over the functions both have long enough: shared tokens / tokens, the larger side's
    matches: tuple  # Match per function compared, in the exercise's order
    reference: bool = False  # b is an earlier term's submission


@dataclass
class SimilarityReport:
    """What `grade similarity` found; the HTML page and the CSV are rendered from it."""

    exercise: str
    functions: list
    threshold: float
    min_tokens: int
    codes: dict  # id -> Code, for the page's side-by-side view
    pairs: list  # flagged pairs, most similar first
    compared: int = 0  # this term's submissions compared
    references: int = 0
    not_compared: list = field(default_factory=list)  # (id, why)
    short: dict = field(default_factory=dict)  # function -> how many submissions had it too short to tell


def functions_of(source: str, names: list) -> dict:
    """name -> source of each top-level function `names` lists that `source` defines (the last one, as Python
    would); GraderError when the source does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise GraderError(f"does not parse (line {exc.lineno}: {exc.msg})") from None
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            found[node.name] = ast.get_source_segment(source, node) or ""
    return found


def read_codes(exercise: Exercise, folder: Path, reference: bool = False) -> tuple[list, list]:
    """The graded functions of every entry of `folder` (folders, .py, notebooks, zips, read as `grade batch`
    reads them), and (id, why) for each entry that could not be read."""
    names = [p.function for p in exercise.parts]
    codes, skipped = [], []
    prefix = f"{folder.name}/" if reference else ""
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as scratch:
        for n, entry in enumerate(scan(folder)):
            sid = prefix + entry.id
            try:
                path = open_entry(entry, Path(scratch) / str(n))
                source = load_submission(exercise, path).source
                codes.append(Code(sid, functions_of(source, names), reference))
            except GraderError as exc:
                skipped.append((sid, str(exc)))
    return codes, skipped


def _fingerprint(source: str, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint("function.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=boilerplate,
                           fp=io.StringIO(source))


def compare(exercise: Exercise, codes: list, threshold: float = THRESHOLD, min_tokens: int = MIN_TOKENS,
            not_compared: list = ()) -> SimilarityReport:
    """Every pair of this term's codes, and each of them against every reference code, function by function."""
    from copydetect import compare_files

    names = [p.function for p in exercise.parts]
    stub_functions = functions_of(exercise.folder.joinpath(exercise.module_file).read_text(encoding="utf-8"), names)
    boilerplate = {name: sorted(_fingerprint(stub_functions[name], None).hashes) if name in stub_functions else None
                   for name in names}
    prints, short = {}, {name: 0 for name in names}
    for code in codes:
        for name, source in code.functions.items():
            fp = _fingerprint(source, boilerplate[name])
            if fp.token_coverage >= min_tokens:
                prints[code.id, name] = fp
            elif not code.reference:
                short[name] += 1
    current = [c for c in codes if not c.reference]
    references = [c for c in codes if c.reference]
    pairs = []
    for i, a in enumerate(current):
        for b in current[i + 1:] + references:
            matches, shared, tokens_a, tokens_b = [], [0, 0], 0, 0
            for name in names:
                fa, fb = prints.get((a.id, name)), prints.get((b.id, name))
                if fa is None or fb is None:
                    continue
                tokens_a += fa.token_coverage
                tokens_b += fb.token_coverage
                if not fa.hashes & fb.hashes:  # most pairs share nothing: skip copydetect's slower comparison
                    continue
                overlap, (share_a, share_b), (spans_a, spans_b) = compare_files(fa, fb)
                shared[0] += share_a * fa.token_coverage
                shared[1] += share_b * fb.token_coverage
                matches.append(Match(name, float(max(share_a, share_b)), float(share_a), float(share_b),
                                     _spans(spans_a), _spans(spans_b)))
            if not matches:
                continue
            similarity = max(shared[0] / tokens_a, shared[1] / tokens_b)
            if similarity >= threshold:
                pairs.append(Pair(a.id, b.id, float(similarity), tuple(matches), b.reference))
    pairs.sort(key=lambda p: (-p.similarity, p.a, p.b))
    return SimilarityReport(exercise.name, names, threshold, min_tokens, {c.id: c for c in codes}, pairs,
                            compared=len(current), references=len(references), not_compared=list(not_compared),
                            short=short)


def _spans(slices) -> tuple:
    """copydetect's 2xN array of slice starts and ends as (start, end) pairs."""
    return tuple((int(s), int(e)) for s, e in zip(*slices)) if len(slices) and len(slices[0]) else ()
