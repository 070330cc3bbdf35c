"""PEP 517 build backend of switchboard-client: standard library only, nothing to download.

Builds the wheel (``switchboard/`` and its ``py.typed``) and the sdist from ``pyproject.toml``, writing core
metadata 2.4 with the licence as an SPDX expression (PEP 639: ``License-Expression`` and the licence file in
``.dist-info/licenses/``), which the setuptools of this project's machines (65/66) cannot write. Files get a
fixed timestamp (``SOURCE_DATE_EPOCH``, else 1980-01-01) so two builds of the same tree are identical.

Supports what this package uses of ``[project]``: name, version, description, readme (Markdown),
requires-python, dependencies, optional-dependencies, license (a string), license-files, classifiers; any
other key is refused, so that nothing in pyproject.toml is silently left out of the package.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "switchboard"
_KNOWN = {"name", "version", "description", "readme", "requires-python", "dependencies", "optional-dependencies",
          "license", "license-files", "classifiers"}


def _project() -> Dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        project: Dict[str, Any] = tomllib.load(f)["project"]
    unknown = set(project) - _KNOWN
    if unknown:
        raise ValueError(f"pyproject.toml: [project] keys this backend does not write: {sorted(unknown)}")
    if not isinstance(project.get("license"), str):
        raise ValueError("pyproject.toml: license must be an SPDX expression string (PEP 639)")
    return project


def _dist_name(project: Dict[str, Any]) -> str:
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _timestamp() -> Tuple[int, int, int, int, int, int]:
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800)
    import time
    t = time.gmtime(epoch)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def metadata(project: Dict[str, Any]) -> str:
    lines = ["Metadata-Version: 2.4", f"Name: {project['name']}", f"Version: {project['version']}"]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines.append(f"License-Expression: {project['license']}")
    lines += [f"License-File: {name}" for name in project.get("license-files", [])]
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {d}; extra == "{extra}"' for d in deps]
    body = ""
    if "readme" in project:
        lines.append("Description-Content-Type: text/markdown")
        body = (ROOT / project["readme"]).read_text("utf-8")
    return "\n".join(lines) + "\n\n" + body


def _package_files() -> List[Path]:
    files = sorted(p for p in (ROOT / PACKAGE).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed"))
    if ROOT / PACKAGE / "py.typed" not in files:
        raise ValueError("switchboard/py.typed is missing: the package would not be typed for its users")
    return files


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _dist_info(project: Dict[str, Any]) -> Tuple[str, Dict[str, bytes]]:
    info = f"{_dist_name(project)}-{project['version']}.dist-info"
    files = {
        f"{info}/METADATA": metadata(project).encode("utf-8"),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: switchboard build_backend\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    for name in project.get("license-files", []):
        files[f"{info}/licenses/{name}"] = (ROOT / name).read_bytes()
    return info, files


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Optional[Dict[str, Any]] = None) -> str:
    info, files = _dist_info(_project())
    for name, data in files.items():
        path = Path(metadata_directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return info


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    project = _project()
    info, meta = _dist_info(project)
    name = f"{_dist_name(project)}-{project['version']}-py3-none-any.whl"
    entries = [(p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in _package_files()]
    entries += sorted(meta.items())
    record = [_record_line(n, d) for n, d in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    stamp = _timestamp()
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as whl:
        for n, d in entries:
            zi = zipfile.ZipInfo(n, stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(zi, d)
    return name


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    paths = [ROOT / "pyproject.toml", ROOT / project.get("readme", "README.md"), ROOT / "tools" / "build_backend.py"]
    paths += [ROOT / n for n in project.get("license-files", [])] + _package_files()
    entries = [(f"{base}/{p.relative_to(ROOT).as_posix()}", p.read_bytes()) for p in paths]
    entries.append((f"{base}/PKG-INFO", metadata(project).encode("utf-8")))
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    name = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / name, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for n, d in sorted(entries):
            ti = tarfile.TarInfo(n)
            ti.size, ti.mtime, ti.mode = len(d), mtime, 0o644
            tar.addfile(ti, io.BytesIO(d))
    return name
