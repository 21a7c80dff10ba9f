"""Shared fixtures: a working folder with the sample returns, merged once per session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_workbooks"


def shared_dir() -> Path | None:
    """../shared (read-only corpus and contracts), or None where this machine has none."""
    env = os.environ.get("ZG_SHARED")
    cand = Path(env) if env else ROOT.parent / "shared"
    return cand if cand.is_dir() else None


def copy_samples(inbox: Path) -> None:
    for p in SAMPLES.iterdir():
        if p.suffix != ".py" and p.is_file():
            shutil.copy2(p, inbox / p.name)


@pytest.fixture(scope="session")
def sample_workdir(tmp_path_factory) -> Path:
    from zg_excel.workspace import init_workspace

    root = tmp_path_factory.mktemp("sample") / "2026组工信息"
    init_workspace(root)
    copy_samples(root / "inbox")
    return root


@pytest.fixture(scope="session")
def sample_result(sample_workdir):
    from zg_excel.merge import merge

    return merge(sample_workdir, year=2026, as_of=dt.date(2026, 9, 30))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (ZG_REQUIRE_TOOLS=1) a skipped test is a failure: every tool it needs must be installed."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("ZG_REQUIRE_TOOLS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"


def corpus_dir() -> Path | None:
    shared = shared_dir()
    corpus = shared / "corpus" if shared else None
    return corpus if corpus and (corpus / "real-files").is_dir() and (corpus / "crafted").is_dir() else None


def corpus_files() -> dict[str, str]:
    """relative name -> absolute path of every stored corpus file."""
    corpus = corpus_dir()
    out: dict[str, str] = {}
    if corpus is None:
        return out
    for sub in ("real-files", "crafted"):
        for p in sorted((corpus / sub).rglob("*")):
            if p.is_file() and p.suffix not in (".md", ".py"):
                out[p.relative_to(corpus).as_posix()] = str(p)
    return out


@pytest.fixture(scope="session")
def crafted_generated(tmp_path_factory) -> dict[str, str]:
    """The large crafted files, regenerated once by the corpus's make.py in a temp folder (never in shared/)."""
    import subprocess
    import sys

    corpus = corpus_dir()
    make = corpus / "crafted" / "make.py" if corpus else None
    if make is None or not make.is_file():
        pytest.skip("../shared/corpus is not on this machine (set ZG_SHARED to the folder holding corpus/)")
    work = tmp_path_factory.mktemp("crafted")
    shutil.copy(make, work / "make.py")
    out = work / "out"
    subprocess.run([sys.executable, str(work / "make.py"), "--out", str(out)], cwd=work,
                   check=True, capture_output=True, timeout=600)
    stored = {p.name for p in (corpus / "crafted").iterdir()}
    return {f"generated/{p.name}": str(p) for p in sorted(out.iterdir()) if p.name not in stored}


def pytest_collectreport(report):
    """A whole test module skipped at collection is a failure in CI too."""
    if os.environ.get("ZG_REQUIRE_TOOLS") == "1" and report.skipped:
        report.outcome = "failed"
