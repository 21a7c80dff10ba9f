"""The offline bundle (packaging/make_bundle.py): built, installed with no network, run.

The office PCs have no internet: everything zg-excel needs must be in the zip,
and its installers must use nothing else.  These tests use the package
registry to build (CI reaches it); the install and the run happen in a network
namespace with no network (``unshare -n``, root).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_workbooks"

pytestmark = pytest.mark.slow


def _load_make_bundle():
    spec = importlib.util.spec_from_file_location("make_bundle", ROOT / "packaging" / "make_bundle.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_bundle"] = mod   # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


mb = _load_make_bundle()


def _make_bundle(out: Path, *args: str) -> Path:
    proc = subprocess.run([sys.executable, str(ROOT / "packaging" / "make_bundle.py"), "-q", "--out", str(out),
                           *args], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    zips = list(out.glob("zg-excel-*-offline.zip"))
    assert [z.name for z in zips] == [f"zg-excel-{mb.project_version()}-offline.zip"]
    assert proc.stdout.strip() == str(zips[0])
    return zips[0]


def _unzip(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest / mb.TOP


def _no_network_ok() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def _offline(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run ``cmd`` in a new network namespace: no interface but a down loopback."""
    return subprocess.run(["unshare", "-n", *cmd], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600, **kw)


def _run_launcher_or_cli(install: Path, workdir: Path) -> subprocess.CompletedProcess:
    """合并汇总 on ``workdir``, offline, through the launcher ``init`` wrote (not through PATH).

    The launcher runs the install's own interpreter; PATH holds no zg-excel. Its merge takes the
    folder's year; the as-of date of the samples (the default would be the last complete month of
    today) is passed through the launcher's arguments. Its closing ``read`` returns at once on the
    closed stdin.
    """
    text = (workdir / "合并汇总.sh").read_text(encoding="utf-8")
    assert "ZG_PYTHON=" + shlex.quote(str(install / "venv" / "bin" / "python")) in text.splitlines()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir.parent), "LANG": "C.UTF-8"}
    cmd = ["bash", str(workdir / "合并汇总.sh"), "--as-of", "2026-09-30"]
    return _offline(cmd, cwd=workdir.parent, env=env)


# ------------------------------------------------------------ host-only ---

def test_host_bundle_installs_and_merges_with_no_network(tmp_path):
    if not _no_network_ok():
        pytest.skip("needs root and unshare (util-linux) for a network namespace")
    zip_path = _make_bundle(tmp_path / "dist", "--host-only")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read(f"{mb.TOP}/bundle.json"))
    assert all(n.startswith(mb.TOP + "/") for n in names)
    for f in ("install.sh", "安装.bat", "安装说明.txt", "bundle.json"):
        assert f"{mb.TOP}/{f}" in names
    wheels = sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".whl"))
    assert wheels == sorted(manifest["sha256"])
    assert any(w.startswith("python_calamine-") for w in wheels)
    assert sum(n.startswith(f"{mb.TOP}/样例/") and n.endswith(".xlsx") for n in names) == len(
        list(SAMPLES.glob("*.xlsx")))

    # The USB stick: unzipped (zipfile keeps no exec bit: the docs say `bash install.sh`).
    install = _unzip(zip_path, tmp_path / "usb")
    workdir = tmp_path / "工作 目录" / "2026组工信息"   # Chinese and a space, as on real desks
    probe = _offline(["cat", "/proc/net/dev"])
    assert [ln.split(":")[0].strip() for ln in probe.stdout.splitlines()[2:]] == ["lo"]

    # PIP_FIND_LINKS/PIP_INDEX_URL in the environment must not matter: the bundle alone is used.
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_FIND_LINKS": str(tmp_path / "nowhere")}
    proc = _offline(["bash", str(install / "install.sh"), "--workdir", str(workdir)], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "安装完成" in proc.stdout
    zg = install / "venv" / "bin" / "zg-excel"
    ver = _offline([str(zg), "--version"])
    assert ver.returncode == 0 and manifest["version"] in ver.stdout
    frozen = _offline([str(install / "venv" / "bin" / "python"), "-m", "pip", "list", "--format=json",
                       "--disable-pip-version-check"])
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower() for p in json.loads(frozen.stdout)} - {"pip", "setuptools"}
    from_bundle = {re.sub(r"[-_.]+", "-", w.split("-")[0]).lower() for w in wheels}
    assert installed == from_bundle

    assert (workdir / "rules.toml").is_file() and (workdir / "inbox").is_dir()
    for src in (install / "样例").glob("*.xlsx"):
        shutil.copy2(src, workdir / "inbox" / src.name)
    run = _run_launcher_or_cli(install, workdir)
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert "有2个错误需要处理" in out
    assert "媒体“人民网”不在媒体目录中" in out and "日期无法识别：2026.13.5" in out
    assert "合并完成，但有需要处理的问题" in out  # the launcher's own closing line
    assert (workdir / "output" / "result.json").is_file()

    # Upgrade: running the installer again replaces the venv and leaves the working folder alone.
    before = {p: p.stat().st_mtime_ns for p in workdir.rglob("*") if p.is_file()}
    again = _offline(["bash", str(install / "install.sh"), "--no-workdir"])
    assert again.returncode == 0, again.stdout + again.stderr
    assert not (install / "venv.old").exists()
    assert {p: p.stat().st_mtime_ns for p in workdir.rglob("*") if p.is_file()} == before
    assert _offline([str(zg), "--version"]).returncode == 0


def test_offline_from_rebuilds_the_same_zip_with_no_network(tmp_path):
    """--offline-from: an earlier bundle's wheels (plus a setuptools wheel to build zg-excel) are enough."""
    if not _no_network_ok():
        pytest.skip("needs root and unshare (util-linux) for a network namespace")
    first = _make_bundle(tmp_path / "a", "--host-only")
    cache = _unzip(first, tmp_path / "old") / "wheels"
    got = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--no-deps",
                          "-d", str(cache), "setuptools>=70.1"], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    proc = _offline([sys.executable, str(ROOT / "packaging" / "make_bundle.py"), "-q", "--host-only",
                     "--offline-from", str(cache), "--out", str(tmp_path / "b")])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "b" / first.name).read_bytes() == first.read_bytes()   # deterministic, same wheels


# ----------------------------------------------- every target, every Python ---

CROSS = ["win_amd64", "manylinux_aarch64"]


@pytest.fixture(scope="module")
def cross_bundle(tmp_path_factory):
    """A bundle for Windows x86-64 and Linux aarch64, every supported Python (wheels from the registry)."""
    tmp = tmp_path_factory.mktemp("cross")
    install = _unzip(_make_bundle(tmp / "dist", "--targets", ",".join(CROSS)), tmp / "usb")
    return install, json.loads((install / "bundle.json").read_text(encoding="utf-8"))


def test_windows_and_aarch64_wheel_sets_are_complete(cross_bundle, tmp_path):
    """Every supported Python on Windows x86-64 and Linux aarch64 installs from the bundle's wheels alone."""
    install, manifest = cross_bundle
    assert manifest["pythons"] == list(mb.PYTHONS) and manifest["targets"] == CROSS
    wheels = install / "wheels"
    root = f"zg-excel[fast]=={manifest['version']}"
    for name in CROSS:
        target = mb.TARGETS[name]
        for py in mb.PYTHONS:
            chosen, missing = mb.resolve(wheels, root, target, py)
            assert missing == [], (name, py, missing)
            files = {w.path.name for w in chosen}
            cp = f"cp{py.replace('.', '')}"
            assert files == set(manifest["wheel_sets"][f"{name} {cp}"])
            plat = "win_amd64" if name == "win_amd64" else "aarch64"
            for compiled in ("python_calamine", "rapidfuzz", "lxml", "markupsafe"):
                assert any(f.startswith(compiled + "-") and f"-{cp}-" in f and plat in f for f in files), \
                    (name, py, compiled)
            # a marker pip evaluates against the machine it runs on, not the target:
            assert any(f.startswith("tomli-") for f in files) == (py == "3.10")
            # pip itself, offline, from the bundle's wheels only:
            proc = subprocess.run(
                [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed",
                 "--no-index", "--find-links", str(wheels), "--only-binary=:all:", "--target",
                 str(tmp_path / "t"), *mb._target_args(target, py), root],
                capture_output=True, text=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
            assert proc.returncode == 0, (name, py, proc.stderr[-2000:])
            assert "Would install" in proc.stdout


def test_resolve_reports_a_missing_wheel(cross_bundle, tmp_path):
    """The completeness check can fail: drop Windows cp312 MarkupSafe and it says so."""
    install, manifest = cross_bundle
    wheels = tmp_path / "wheels"
    shutil.copytree(install / "wheels", wheels)
    root = f"zg-excel[fast]=={manifest['version']}"
    assert mb.resolve(wheels, root, mb.TARGETS["win_amd64"], "3.12")[1] == []
    for w in wheels.glob("markupsafe-*cp312*win_amd64.whl"):
        w.unlink()
    missing = mb.resolve(wheels, root, mb.TARGETS["win_amd64"], "3.12")[1]  # jinja2's and werkzeug's need
    assert missing and {re.split(r"[<>=!~;\[ ]", m)[0].lower() for m in missing} == {"markupsafe"}
    assert mb.resolve(wheels, root, mb.TARGETS["win_amd64"], "3.13")[1] == []
    # a target the bundle was not built for: its compiled wheels are missing
    assert "python-calamine>=0.3" in mb.resolve(wheels, root, mb.TARGETS["manylinux_x86_64"], "3.12")[1]


# --------------------------------------------------------- the installers ---

def _filled_script(tmp_path: Path, pythons=("3.10", "3.11", "3.12", "3.13")) -> Path:
    folder = tmp_path / "bundle"
    (folder / "wheels").mkdir(parents=True)
    text = mb._fill((ROOT / "packaging" / "bundle" / "install.sh").read_text(encoding="utf-8"),
                    VERSION="9.9.9", PYTHONS=" ".join(pythons), MACHINES="x86_64 aarch64", EXTRA="fast")
    (folder / "install.sh").write_text(text, encoding="utf-8")
    (folder / "wheels" / "zg_excel-9.9.9-py3-none-any.whl").write_bytes(b"")  # never installed: it stops first
    return folder / "install.sh"


def _bare_path(tmp_path: Path, fake_python: str | None) -> str:
    """A PATH with the tools install.sh needs and, at most, a fake python3."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("dirname", "uname", "rm", "mv", "mkdir", "cat"):
        os.symlink(shutil.which(tool), bin_ / tool)
    if fake_python is not None:
        (bin_ / "python3").write_text(f"#!/bin/sh\necho {fake_python}\n")
        (bin_ / "python3").chmod(0o755)
    return str(bin_)


@pytest.mark.parametrize("found, says", [
    (None, "没有找到 Python 3"),
    ("3.8", "本机的 Python 是 3.8 版，太旧"),
])
def test_install_sh_refuses_politely_without_a_usable_python(tmp_path, found, says):
    script = _filled_script(tmp_path)
    bash = shutil.which("bash")
    proc = subprocess.run([bash, str(script), "--no-workdir"], capture_output=True, text=True,
                          env={"PATH": _bare_path(tmp_path, found), "HOME": str(tmp_path)},
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "安装没有完成" in proc.stdout and says in proc.stdout
    assert "3.10、3.11、3.12、3.13" in proc.stdout          # which Python to ask IT for
    assert proc.stderr == ""                                 # no shell noise, only the message
    assert not (script.parent / "venv").exists()


def test_install_sh_names_a_python_the_bundle_has_no_wheels_for(tmp_path):
    script = _filled_script(tmp_path, pythons=("3.9",))
    proc = subprocess.run(["bash", str(script), "--python", sys.executable, "--no-workdir"], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"指定的 Python 是 {sys.version_info[0]}.{sys.version_info[1]} 版，本安装包只适用于 Python 3.9" in proc.stdout
    assert not (script.parent / "venv").exists()


def test_install_sh_says_to_unzip_first_when_wheels_are_missing(tmp_path):
    script = _filled_script(tmp_path)
    shutil.rmtree(script.parent / "wheels")
    proc = subprocess.run(["bash", str(script), "--no-workdir"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2 and "请先把压缩包完整解压" in proc.stdout, proc.stdout + proc.stderr
    assert not (script.parent / "venv").exists()


def test_install_sh_is_shellcheck_clean():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck; .ci/run does)")
    proc = subprocess.run(["shellcheck", "-s", "bash", str(ROOT / "packaging" / "bundle" / "install.sh")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_install_bat_is_gbk_crlf_with_ascii_commands_and_no_dangling_goto():
    text = mb._fill((ROOT / "packaging" / "bundle" / "安装.bat").read_text(encoding="utf-8"),
                    VERSION="9.9.9", EXTRA="fast", PYTHONS_TEXT="3.10、3.13", PYTHON_MAX="3.13",
                    PY_TUPLES="(3,10),(3,13)",
                    TRY_PYTHONS="if not defined PY call :try py -3.13\nif not defined PY call :try py -3.10")
    data = mb.bat_bytes(text)
    assert data.count(b"\n") == data.count(b"\r\n")
    lines = data.decode("gbk").split("\r\n")
    assert lines[0] == "@echo off" and lines[1] == "chcp 936 >nul"
    for ln in lines:
        s = ln.strip()
        chinese_ok = (s.lower().startswith(("echo ", "rem ", "if defined found echo ", "if not defined found echo "))
                      or s.startswith('set /p "WORKDIR='))
        assert chinese_ok or s.isascii(), ln
    labels = {ln[1:].split()[0].lower() for ln in lines if ln.startswith(":")}
    jumps = {m.lower() for ln in lines for m in re.findall(r"\b(?:goto|call) :?([A-Za-z_]+)", ln)}
    assert jumps - {"eof"} <= labels, jumps - labels
    assert 'call :try py -3.13' in text and "zg-excel[fast]==%VERSION%" in text
