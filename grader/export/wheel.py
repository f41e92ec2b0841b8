"""The grader as a wheel, written directly (it is pure Python): installing it
needs no build tools and no package index, so the autograder's set-up installs
exactly the grader it was exported with."""
from __future__ import annotations

import base64
import hashlib
import io
import sys
import zipfile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATE = (1980, 1, 1, 0, 0, 0)  # fixed times: the same grader gives the same bytes


def project_metadata(pyproject: str) -> dict:
    """The [project] table of the grader's pyproject.toml."""
    return tomllib.loads(pyproject)["project"]


def wheel_name(project: dict) -> str:
    return f"{project['name'].replace('-', '_')}-{project['version']}-py3-none-any.whl"


def build_wheel(files: dict, project: dict) -> bytes:
    """A py3-none-any wheel holding `files` (path -> text, the package's
    modules) with the metadata of `project` and its console scripts."""
    name, version = project["name"].replace("-", "_"), project["version"]
    info = f"{name}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}"]
    metadata += [f"Summary: {project['description']}"] if project.get("description") else []
    metadata += [f"Requires-Python: {project['requires-python']}"] if project.get("requires-python") else []
    metadata += [f"Requires-Dist: {r}" for r in project.get("dependencies", [])]
    scripts = project.get("scripts", {})
    members = {path: text.encode("utf-8") for path, text in sorted(files.items())}
    members[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    members[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: mlgrade export\nRoot-Is-Purelib: true\n"
                                b"Tag: py3-none-any\n")
    if scripts:
        entries = "".join(f"{k} = {v}\n" for k, v in scripts.items())
        members[f"{info}/entry_points.txt"] = f"[console_scripts]\n{entries}".encode()
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in members.items()]
    members[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in members.items():
            entry = zipfile.ZipInfo(path, DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return buffer.getvalue()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
