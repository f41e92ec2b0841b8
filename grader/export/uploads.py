"""What a student uploaded to a platform, made into a submission folder.

Students upload the module, the notebook, quiz.toml, a .zip of them, or a
folder holding them; the platform puts it all in one folder, maybe nested.
The files wanted are found by name wherever they are, zips unpacked with the
same checks as a class's entries, and copied into a folder of their own, so
that `load_submission` reads only them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..course import Exercise
from ..errors import GraderError
from ..submissions.entries import IGNORED, MAX_ZIP_BYTES, check_folder, unpack_zip

MAX_ZIPS = 5


def expected(exercise: Exercise) -> str:
    """What to upload, in one sentence for the student."""
    return (f"Upload {exercise.module_file} or the notebook {exercise.notebook_file}, with your quiz answers in "
            f"{exercise.quiz_file} (or the notebook's quiz cell), or a .zip holding them.")


def gather(exercise: Exercise, upload: Path, scratch: Path) -> tuple[Path, list[str]]:
    """A folder under `scratch` holding what to grade from `upload`, and notes
    on how the upload was read; GraderError when it holds nothing to grade."""
    upload = Path(upload)
    if not upload.is_dir():
        raise GraderError("nothing was uploaded")
    check_folder(upload)
    trees = [upload]
    for i, archive in enumerate(p for p in _files(upload) if p.suffix.lower() == ".zip"):
        if i == MAX_ZIPS:
            raise GraderError(f"the upload holds more than {MAX_ZIPS} zip files")
        unpacked = scratch / f"zip{i}"
        unpacked.mkdir()
        try:
            unpack_zip(archive, unpacked)
        except GraderError as exc:
            raise GraderError(f"{archive.name}: {exc}") from None
        trees.append(unpacked)
    found = [p for tree in trees for p in _files(tree) if p.suffix.lower() != ".zip"]
    if not found:
        raise GraderError("nothing was uploaded" if len(trees) == 1 else "the zip holds no files")
    module = _only(found, exercise.module_file)
    notebook = _notebook(exercise, found)
    notes = []
    if module is None and notebook is None:
        scripts = [p for p in found if p.suffix == ".py"]
        if len(scripts) != 1:
            names = sorted({p.name for p in found})
            listed = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
            raise GraderError(f"the upload holds no {exercise.module_file} and no notebook (it holds {listed})")
        module = scripts[0]
        notes.append(f"graded {module.name} as {exercise.module_file}")
    graded = scratch / "graded"
    graded.mkdir()
    for source, name in ((module, exercise.module_file), (notebook, exercise.notebook_file),
                         (_only(found, exercise.quiz_file), exercise.quiz_file)):
        if source is not None:
            if source.stat().st_size > MAX_ZIP_BYTES:
                raise GraderError(f"{source.name} is larger than {MAX_ZIP_BYTES // 2**20} MB")
            shutil.copyfile(source, graded / name)
    return graded, notes


def _files(tree: Path) -> list[Path]:
    """The regular files under `tree`, sorted, leaving out hidden files and folders and system clutter."""
    found = []
    for path in sorted(tree.rglob("*")):
        parts = path.relative_to(tree).parts
        if path.is_file() and not any(p.startswith(".") or p in IGNORED for p in parts):
            found.append(path)
    return found


def _only(found: list[Path], name: str) -> Path | None:
    """The file called `name`; GraderError when there are several that differ."""
    named = [p for p in found if p.name == name]
    if len({p.read_bytes() for p in named}) > 1:
        raise GraderError(f"the upload holds {len(named)} different files named {name}: keep one")
    return named[0] if named else None


def _notebook(exercise: Exercise, found: list[Path]) -> Path | None:
    """The lab's notebook by its name, else the only notebook; GraderError when there are several others."""
    named = _only(found, exercise.notebook_file)
    if named is not None:
        return named
    notebooks = [p for p in found if p.suffix.lower() == ".ipynb"]
    if len(notebooks) > 1:
        names = ", ".join(sorted(p.name for p in notebooks))
        raise GraderError(f"the upload holds several notebooks ({names}) and none named {exercise.notebook_file}")
    return notebooks[0] if notebooks else None
