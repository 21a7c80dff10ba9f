"""Without the compiled dependencies (python-calamine, rapidfuzz, python-docx/lxml) zg-excel gives the same result.json.

Two ways to take them away:

- ``blocked``: this interpreter with an import hook (``sitecustomize.py`` on PYTHONPATH) that makes
  them unimportable — quick, runs everywhere;
- ``venv`` (slow): a real virtual environment with ``pip install --no-deps .`` and only the pure
  dependencies (pyproject's core dependencies without the marker'd compiled ones), from the package
  registry, as CI can; skipped when pip cannot reach it.

Each runs ``zg-excel merge`` on ``sample_workbooks/`` and on a generated workload of 50 returns and
compares result.json with the full install's, ignoring the run id, the run files' hashes and the one
info issue that says 通报.docx was not written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

COMPILED = ("python_calamine", "rapidfuzz", "docx", "lxml")

# A name bound to None in sys.modules cannot be imported (ImportError) and importlib.util.find_spec
# says it is not there: as in an interpreter where it was never installed.
BLOCKER = f"""
import sys
for _name in {COMPILED!r}:
    sys.modules[_name] = None
"""

WORKLOAD = dict(units=10, months=5, events=20, subs=5)  # 50 returns


def _workdir(tmp: Path, kind: str) -> Path:
    work = tmp / f"{kind} 工作目录"
    if kind == "samples":
        run = subprocess.run([sys.executable, "-m", "zg_excel", "init", "-q", str(work)], capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stderr
        for src in (ROOT / "sample_workbooks").glob("*.xlsx"):
            shutil.copy2(src, work / "inbox" / src.name)
    else:
        args = [f"--{k}={v}" for k, v in WORKLOAD.items()]
        run = subprocess.run([sys.executable, str(ROOT / "bench" / "make_workload.py"), "-q", *args, str(work)],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    return work


def _merge(python: str, work: Path, env: dict | None = None) -> tuple[int, dict, str]:
    out = work / "output"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    run = subprocess.run([python, "-m", "zg_excel", "merge", "-w", str(work), "--year", "2026",
                          "--as-of", "2026-09-30"], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return run.returncode, data, run.stdout + run.stderr


_DOCX_MISSING = "未安装 python-docx，未生成通报.docx"


def _comparable(data: dict) -> dict:
    """result.json without what differs between two runs (run id, output hashes) or says a .docx is missing."""
    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("run_id", "run_files")}
        if isinstance(node, list):
            return [strip(v) for v in node if not (isinstance(v, dict) and v.get("message") == _DOCX_MISSING)]
        return node
    return strip(data)


def _counts_without_docx_notice(text: str) -> str:
    return re.sub(r"提示\d+个", "提示N个", text)


def _compare(python: str, env: dict | None, tmp: Path, kind: str) -> None:
    work = _workdir(tmp, kind)
    full_rc, full, _ = _merge(sys.executable, work)
    assert (work / "output" / "通报.docx").is_file()
    pure_rc, pure, out = _merge(python, work, env)
    assert pure_rc == full_rc
    assert not (work / "output" / "通报.docx").exists()
    assert _comparable(pure) == _comparable(full)
    # the one difference, said once
    text = json.dumps(pure, ensure_ascii=False)
    assert text.count(_DOCX_MISSING) == 1 and _DOCX_MISSING not in json.dumps(full, ensure_ascii=False)


@pytest.fixture(scope="module")
def blocked_env(tmp_path_factory) -> dict:
    hook = tmp_path_factory.mktemp("blocker")
    (hook / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)])}


def test_the_blocker_really_blocks(blocked_env):
    code = ("import zg_excel.cli, zg_excel.merge, zg_excel.outputs.write, zg_excel.claims\n"
            "from zg_excel import fuzzy\n"
            "from zg_excel.intake.readers import calamine_available\n"
            "from zg_excel.outputs.write import docx_available\n"
            "import sys\n"
            "print(fuzzy.BACKEND, calamine_available(), docx_available(),"
            " sorted(m for m, v in sys.modules.items() if v is not None and m.split('.')[0] in %r))" % (COMPILED,))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=blocked_env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["python", "False", "False", "[]"]


@pytest.mark.parametrize("kind", ["samples", "workload"])
def test_same_result_json_without_compiled_packages(blocked_env, tmp_path, kind):
    _compare(sys.executable, blocked_env, tmp_path, kind)


def test_xlsb_and_ods_say_the_full_install_is_needed(blocked_env, tmp_path):
    corpus = Path("/work/shared/corpus/real-files/calamine")
    files = [p for p in (corpus / "date_1904.xlsb", corpus / "covered.ods") if p.is_file()]
    if not files:
        pytest.skip("corpus not present")
    code = ("import sys\nfrom zg_excel.intake.readers import read_book\nfrom zg_excel.intake.raw import IntakeLimits\n"
            "for p in sys.argv[1:]:\n    f = read_book(p, IntakeLimits())\n    print(f.code, f.message)\n")
    run = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True,
                         env=blocked_env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == len(files)
    for line in lines:
        assert line.startswith("unreadable ") and "纯 Python 版" in line and "另存为 Excel 工作簿(.xlsx)" in line


# ------------------------------------------------------------------ a real venv

def _pure_requirements() -> list[str]:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return [d for d in deps if "platform_machine" not in d]


@pytest.fixture(scope="module")
def pure_venv(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("pure venv") / "venv"
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    got = subprocess.run([*pip, *_pure_requirements()], capture_output=True, text=True, timeout=900)
    if got.returncode != 0:
        pytest.skip("the package registry is not reachable: " + got.stderr[-300:])
    got = subprocess.run([*pip, "--no-deps", str(ROOT)], capture_output=True, text=True,
                         timeout=900)
    assert got.returncode == 0, got.stderr[-3000:]
    return python


@pytest.mark.slow
def test_pure_venv_has_no_compiled_package(pure_venv):
    code = ("import importlib.util, sys, zg_excel.cli\n"
            "print([m for m in %r if importlib.util.find_spec(m)])" % (COMPILED,))
    run = subprocess.run([str(pure_venv), "-c", code], capture_output=True, text=True, cwd="/")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["samples", "workload"])
def test_pure_venv_gives_the_same_result_json(pure_venv, tmp_path, kind):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _compare(str(pure_venv), env, tmp_path, kind)
