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
