#!/usr/bin/env python3
"""Build the offline bundle ``dist/zg-excel-<version>-offline.zip``.

Office PCs sit on an intranet with no internet; software arrives on a USB
stick.  The bundle holds the project's wheel and a wheel of every dependency
for each target (Windows x86-64, Linux x86-64 and aarch64 manylinux up to
glibc 2.28, the level of 统信UOS 20 and 麒麟 V10) and each supported Python,
all in one ``wheels/`` folder, plus ``安装.bat`` / ``install.sh`` (create a
virtual environment beside themselves and install from ``wheels/`` alone)
and ``安装说明.txt``.  Inside the zip everything is under ``zg-excel/``, so a
newer bundle unpacks to the same place and its installer replaces the venv.

    python packaging/make_bundle.py                      # every target and Python
    python packaging/make_bundle.py --host-only          # this machine only (the tests)
    python packaging/make_bundle.py --offline-from DIR   # take wheels from DIR, not the index

pip evaluates environment markers against the Python that runs it, not the
``--platform``/``--python-version`` it downloads for (so ``colorama; platform_system
== "Windows"``, needed by click on Windows, is skipped on a Linux build
machine).  Each target's wheel set is therefore checked here with the
target's own marker environment (``resolve``) and whatever is missing is
downloaded in a second round.  A dependency published only as an sdist is
built into a wheel (``pip wheel --no-deps``); it must come out pure Python.
The build machine needs Python >= 3.8 with pip and ``packaging``.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.tags import compatible_tags, cpython_tags, sys_tags
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.markers import default_environment  # type: ignore[no-redef]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.tags import compatible_tags, cpython_tags, sys_tags  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "bundle"
PROJECT = "zg-excel"
EXTRA = "fast"                       # the compiled dependencies; see pyproject.toml
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
GLIBC_MAX = 28                       # manylinux_2_28: 统信UOS 20 / 麒麟 V10 (glibc 2.28)
TOP = "zg-excel"                     # the folder inside the zip
BAT_ENCODING = "gbk"                 # as zg_excel/launchers.py: cmd.exe reads .bat in code page 936
FIXED_TIME = (2020, 1, 1, 0, 0, 0)   # zip entries: the same bytes for the same inputs


def _manylinux(arch: str) -> tuple[str, ...]:
    new = [f"manylinux_2_{m}_{arch}" for m in range(GLIBC_MAX, 4, -1)]
    legacy = ["manylinux2014", "manylinux2010", "manylinux1"] if arch == "x86_64" else ["manylinux2014"]
    return tuple(new + [f"{p}_{arch}" for p in legacy])


@dataclass(frozen=True)
class Target:
    name: str
    machines: tuple[str, ...]               # platform.machine() values the wheels run on
    platforms: tuple[str, ...] = ()         # pip --platform values; () = this machine
    env: dict = field(default_factory=dict, hash=False, compare=False)  # marker environment


TARGETS = {
    "win_amd64": Target("win_amd64", ("AMD64",), ("win_amd64",),
                        {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                         "platform_machine": "AMD64"}),
    "manylinux_x86_64": Target("manylinux_x86_64", ("x86_64",), _manylinux("x86_64"),
                               {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                                "platform_machine": "x86_64"}),
    "manylinux_aarch64": Target("manylinux_aarch64", ("aarch64",), _manylinux("aarch64"),
                                {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                                 "platform_machine": "aarch64"}),
}


def host_target() -> Target:
    env = default_environment()
    return Target("host", (env["platform_machine"],), (), {})


def host_python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


class BundleError(Exception):
    pass


# ------------------------------------------------------------------ project ---

def project_version(root: Path = ROOT) -> str:
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', text)
    if not m:
        raise BundleError("pyproject.toml has no static version")
    return m.group(1)


def _pip(args: list[str], log) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    log("+ pip " + " ".join(args))
    # SOURCE_DATE_EPOCH: the wheels built here (zg-excel's own) have fixed timestamps, so the same
    # inputs give the same zip.
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1577836800")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        raise BundleError(f"{what} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def _can_build_here() -> bool:
    """This Python's setuptools can build the wheel (pyproject.toml asks >= 68; bdist_wheel built in from 70.1)."""
    import importlib.metadata

    try:
        have = tuple(int(x) for x in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return have >= (70, 1) or (have >= (68, 0) and importlib.util.find_spec("wheel") is not None)


def _not_source(root: Path):
    """copytree's ignore: build products, caches, environments and benchmark data are not source."""
    top = {".git", ".venv", "build", "dist", "demo", ".hypothesis", ".pytest_cache"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).resolve()
        out = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
        if here == root.resolve():
            out |= top & set(names)
        if here == (root / "bench").resolve():
            out |= {"out"} & set(names)
        return out

    return ignore


def build_project_wheel(root: Path, wheels: Path, index: list[str], log) -> Path:
    for old in wheels.glob("zg_excel-*.whl"):
        old.unlink()
    isolation = []
    if index and _can_build_here():
        isolation = ["--no-build-isolation"]   # offline: use this Python's setuptools
    # Build from a snapshot of the source: pip builds in the tree, and setuptools never empties an
    # old build/lib, so a module deleted since the last build would otherwise still be shipped.
    with tempfile.TemporaryDirectory(prefix="zg-bundle-src-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(root, src, ignore=_not_source(root))
        proc = _pip(["wheel", "--no-deps", *isolation, "-w", str(wheels), *index, str(src)], log)
    if proc.returncode != 0 and index and not isolation:
        raise BundleError("building the zg-excel wheel offline needs setuptools>=70.1 in this Python "
                          "or a setuptools wheel in the --offline-from folder:\n" + proc.stderr[-2000:])
    _check(proc, "building the zg-excel wheel")
    found = sorted(wheels.glob("zg_excel-*.whl"))
    if len(found) != 1:
        raise BundleError(f"expected one zg-excel wheel, found {found}")
    return found[0]


# ---------------------------------------------------------------- download ---

def _target_args(target: Target, py: str) -> list[str]:
    if not target.platforms:
        return []
    nodot = py.replace(".", "")
    args = ["--implementation", "cp", "--python-version", py,
            "--abi", f"cp{nodot}", "--abi", "abi3", "--abi", "none"]
    for p in target.platforms:
        args += ["--platform", p]
    return args


_NO_MATCH = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")


def download(reqs: list[str], target: Target, py: str, wheels: Path, index: list[str], log) -> None:
    """``pip download`` wheels of ``reqs`` and their dependencies for one target.

    A dependency with no wheel at all is fetched as an sdist and built into a
    (pure Python) wheel in ``wheels/``, then the download is tried again.
    """
    built: set[str] = set()
    while True:
        proc = _pip(["download", "--only-binary=:all:", "-d", str(wheels), "--find-links", str(wheels),
                     *index, *_target_args(target, py), *reqs], log)
        if proc.returncode == 0:
            return
        m = _NO_MATCH.search(proc.stderr)
        name = m.group(1) if m else None
        if not name or canonicalize_name(name) in built:
            _check(proc, f"pip download for {target.name} / Python {py}")
        built.add(canonicalize_name(name))
        _wheel_from_sdist(name, wheels, index, log)


def _wheel_from_sdist(name: str, wheels: Path, index: list[str], log) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = _pip(["download", "--no-deps", "--no-binary=:all:", "-d", tmp, *index, name], log)
        _check(proc, f"downloading the sdist of {name}")
        sdists = list(Path(tmp).iterdir())
        proc = _pip(["wheel", "--no-deps", "-w", tmp, *index, str(sdists[0])], log)
        _check(proc, f"building a wheel of {name}")
        for whl in Path(tmp).glob("*.whl"):
            tags = parse_wheel_filename(whl.name)[3]
            if any(t.platform != "any" or t.abi != "none" for t in tags):
                raise BundleError(f"{name} has no wheel for the target and is not pure Python ({whl.name})")
            shutil.copy2(whl, wheels / whl.name)


# ----------------------------------------------------------------- resolve ---

@dataclass
class Wheel:
    path: Path
    name: str
    version: object
    tags: frozenset
    requires: list[str]
    requires_python: str | None


def read_wheels(folder: Path) -> dict[str, list[Wheel]]:
    out: dict[str, list[Wheel]] = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        with zipfile.ZipFile(path) as zf:
            meta_name = next(n for n in zf.namelist()
                             if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            meta = email.parser.Parser().parsestr(zf.read(meta_name).decode("utf-8"), headersonly=True)
        out.setdefault(name, []).append(Wheel(path, name, version, frozenset(tags),
                                              meta.get_all("Requires-Dist") or [],
                                              meta.get("Requires-Python")))
    return out


def _supported(target: Target, py: str) -> set:
    if not target.platforms:
        return set(sys_tags())
    v = tuple(int(x) for x in py.split("."))
    interp = f"cp{v[0]}{v[1]}"
    return (set(cpython_tags(v, abis=[interp, "abi3", "none"], platforms=list(target.platforms)))
            | set(compatible_tags(v, interpreter=interp, platforms=list(target.platforms))))


def _marker_env(target: Target, py: str) -> dict:
    env = dict(default_environment())
    if target.platforms:
        env.update(target.env)
        env.update(python_version=py, python_full_version=py + ".0",
                   implementation_name="cpython", platform_python_implementation="CPython")
    return env


def resolve(folder: Path, root: str, target: Target, py: str,
            wheels: dict[str, list[Wheel]] | None = None) -> tuple[list[Wheel], list[str]]:
    """The wheels ``pip install --no-index --find-links folder ROOT`` would take on one target.

    Greedy (the highest compatible version of each name, no backtracking):
    enough to tell whether a wheel set is complete.  Returns (chosen, problems);
    problems are requirement strings with no compatible wheel, or conflicts.
    """
    wheels = read_wheels(folder) if wheels is None else wheels
    tags = _supported(target, py)
    env = _marker_env(target, py)
    chosen: dict[str, Wheel] = {}
    extras_done: dict[str, set] = {}
    problems: list[str] = []
    queue = [Requirement(root)]
    while queue:
        req = queue.pop(0)
        name = canonicalize_name(req.name)
        have = chosen.get(name)
        if have is None:
            fits = [w for w in wheels.get(name, [])
                    if w.tags & tags and req.specifier.contains(w.version, prereleases=True)
                    and (not w.requires_python
                         or SpecifierSet(w.requires_python).contains(env["python_full_version"]))]
            if not fits:
                problems.append(f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}"
                                f"{req.specifier}")
                continue
            have = chosen[name] = max(fits, key=lambda w: w.version)
            extras_done[name] = set()
        elif not req.specifier.contains(have.version, prereleases=True):
            problems.append(f"{req} (conflicts with {have.path.name})")
            continue
        new = ({""} | {canonicalize_name(e) for e in req.extras}) - extras_done[name]
        if not new:
            continue
        extras_done[name] |= new
        for text in have.requires:
            dep = Requirement(text)
            if dep.marker is None:
                if "" in new:
                    queue.append(dep)
            elif any(dep.marker.evaluate({**env, "extra": e}) for e in new):
                queue.append(dep)
    return sorted(chosen.values(), key=lambda w: w.path.name), problems


# ------------------------------------------------------------------ bundle ---

def _fill(template: str, **values: str) -> str:
    for k, v in values.items():
        template = template.replace(f"@{k}@", v)
    left = re.findall(r"@[A-Z_]+@", template)
    if left:
        raise BundleError(f"unfilled placeholders {left}")
    return template


def bat_bytes(text: str) -> bytes:
    """``安装.bat`` as cmd.exe reads it: GBK, CRLF (see zg_excel/launchers.py)."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode(BAT_ENCODING)


def build(targets: list[Target], pythons: list[str], out: Path, offline_from: Path | None,
          work: Path, log=print) -> Path:
    version = project_version()
    wheels = work / TOP / "wheels"
    wheels.mkdir(parents=True)
    index = ["--no-index", "--find-links", str(offline_from)] if offline_from else []

    project = build_project_wheel(ROOT, wheels, index, log)
    root_req = f"{PROJECT}[{EXTRA}]=={version}"
    local = f"{project}[{EXTRA}]"
    for target in targets:
        for py in pythons:
            download([local], target, py, wheels, index, log)
            for _ in range(3):        # what pip skipped by evaluating markers on this machine
                _, missing = resolve(wheels, root_req, target, py)
                if not missing:
                    break
                download([m.split(" (")[0] for m in missing], target, py, wheels, index, log)
    # Keep exactly the wheels some target installs; check every target is complete.
    table = read_wheels(wheels)
    used: set[str] = set()
    sets: dict[str, list[str]] = {}
    for target in targets:
        for py in pythons:
            chosen, missing = resolve(wheels, root_req, target, py, table)
            if missing:
                raise BundleError(f"{target.name} / Python {py}: no wheel for {', '.join(missing)}")
            sets[f"{target.name} cp{py.replace('.', '')}"] = [w.path.name for w in chosen]
            used |= {w.path.name for w in chosen}
    for path in wheels.glob("*"):
        if path.name not in used:
            log(f"- unused {path.name}")
            path.unlink()

    machines = sorted({m for t in targets for m in t.machines})
    linux_machines = " ".join(m for m in machines if m != "AMD64")
    values = dict(VERSION=version, PYTHONS=" ".join(pythons), MACHINES=linux_machines,
                  PYTHON_MAX=pythons[-1], EXTRA=EXTRA, PYTHONS_TEXT="、".join(pythons),
                  PY_TUPLES=",".join("(%s)" % v.replace(".", ",") for v in pythons),
                  TRY_PYTHONS="\n".join(f"if not defined PY call :try py -{v}" for v in reversed(pythons)))
    top = work / TOP
    (top / "install.sh").write_text(_fill((HERE / "install.sh").read_text(encoding="utf-8"), **values),
                                    encoding="utf-8", newline="\n")
    (top / "安装.bat").write_bytes(bat_bytes(_fill((HERE / "安装.bat").read_text(encoding="utf-8"),
                                                  **values)))
    readme = _fill((HERE / "安装说明.txt").read_text(encoding="utf-8"), **values)
    (top / "安装说明.txt").write_bytes(readme.replace("\n", "\r\n").encode("utf-8-sig"))
    samples = top / "样例"
    samples.mkdir()
    for src in sorted((ROOT / "sample_workbooks").glob("*.xlsx")):
        shutil.copy2(src, samples / src.name)
    manifest = {
        "version": version, "extra": EXTRA, "pythons": list(pythons),
        "targets": [t.name for t in targets], "machines": machines, "wheel_sets": sets,
        "sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(wheels.glob("*.whl"))},
    }
    (top / "bundle.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                     encoding="utf-8")

    out.mkdir(parents=True, exist_ok=True)
    dest = out / f"{PROJECT}-{version}-offline.zip"
    tmp = dest.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in top.rglob("*")):
            arc = path.relative_to(work).as_posix()
            if path.is_dir():
                info = zipfile.ZipInfo(arc + "/", FIXED_TIME)
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(arc, FIXED_TIME)
            info.external_attr = (0o100755 if path.suffix == ".sh" else 0o100644) << 16
            info.compress_type = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build dist/zg-excel-<version>-offline.zip")
    ap.add_argument("--targets", default=",".join(TARGETS),
                    help=f"comma-separated, from {', '.join(TARGETS)} (default: all)")
    ap.add_argument("--python", default=",".join(PYTHONS), help="Python versions (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    ap.add_argument("--offline-from", type=Path, metavar="DIR",
                    help="take every wheel from DIR (a folder of wheels, e.g. an earlier bundle's wheels/)")
    ap.add_argument("--host-only", action="store_true",
                    help="only this machine's platform and Python (fast; what the tests use)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    log = (lambda *_: None) if a.quiet else (lambda s: print(s, file=sys.stderr))
    if a.host_only:
        targets, pythons = [host_target()], [host_python()]
    else:
        unknown = [t for t in a.targets.split(",") if t not in TARGETS]
        if unknown:
            ap.error(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
        targets = [TARGETS[t] for t in a.targets.split(",")]
        pythons = sorted(a.python.split(","), key=lambda v: tuple(int(x) for x in v.split(".")))
    if a.offline_from and not a.offline_from.is_dir():
        ap.error(f"--offline-from {a.offline_from}: not a folder")
    with tempfile.TemporaryDirectory(prefix="zg-bundle-") as work:
        try:
            dest = build(targets, pythons, a.out.resolve(),
                         a.offline_from.resolve() if a.offline_from else None, Path(work), log)
        except BundleError as e:
            print(f"make_bundle: {e}", file=sys.stderr)
            return 1
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
