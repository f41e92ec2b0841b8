"""Pinning the grader's third-party packages to the versions installed here,
where the export runs (and where the grader was tested): every package the
grader needs, directly or not, as `name==version`."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import GraderError

# The container's platform; the Python version is this one's (the autograder installs it).
TARGET = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


def pinned(requirements: list[str]) -> list[str]:
    """`name==version` of each package `requirements` need in a Linux
    container, found by following the installed packages' metadata. One that
    is needed there but not installed here (exporting from macOS, say) is kept
    as written, unpinned, for pip to resolve."""
    pins, loose = {}, set()
    todo = [(text, ()) for text in requirements]
    while todo:
        text, extras = todo.pop()
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue  # metadata written by hand may hold anything; pip would refuse it too
        if req.marker is not None and not any(req.marker.evaluate({**TARGET, "extra": e}) for e in extras or ("",)):
            continue
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            if req.marker is None:
                raise GraderError(f"{req.name} is not installed here, so its version cannot be pinned") from None
            loose.add(str(req))
            continue
        seen = pins.get(name, (None, ()))[1]
        wanted = tuple(sorted({*seen, *req.extras}))
        if name in pins and wanted == seen:
            continue
        pins[name] = (dist.version, wanted)
        todo += [(r, wanted) for r in dist.requires or []]
    return [f"{name}=={version}" for name, (version, _) in sorted(pins.items())] + sorted(loose)


def tested_with() -> str:
    """The interpreter and platform the pins come from, in words."""
    return f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} {platform.machine()}"


def python_version() -> str:
    """major.minor of this interpreter: the Python the autograder installs."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"
