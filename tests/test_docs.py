"""Docs cannot drift: README's first lines are the newcomer's commands, every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from zg_excel.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_line(n: int) -> str:
    line = README.splitlines()[n]
    assert line.startswith("`") and line.endswith("`"), line
    return line.strip("`")


def test_first_lines_are_install_and_run_then_install_and_test():
    run, test = _code_line(0), _code_line(2)
    assert "pip install" in run and "zg-excel merge" in run and "sample_workbooks" in run
    assert "pip install" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "sed -n '3p' README.md" in ci
    assert "libreoffice-calc-nogui" in ci


def test_every_command_is_in_the_readme():
    for name, cmd in cli.commands.items():
        assert re.search(rf"zg-excel {name}\b", README), f"zg-excel {name} is not documented in README.md"
        if isinstance(getattr(cmd, "commands", None), dict):
            for sub in cmd.commands:
                assert f"zg-excel {name} {sub}" in README, f"zg-excel {name} {sub} missing from README.md"


def test_every_command_has_chinese_help_with_an_example():
    def walk(group, prefix):
        for name, cmd in group.commands.items():
            yield f"{prefix} {name}", cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, f"{prefix} {name}")

    for name, cmd in walk(cli, "zg-excel"):
        text = cmd.help or ""
        assert re.search(r"[\u4e00-\u9fff]", text), name
        if not hasattr(cmd, "commands"):
            assert "示例" in text, f"{name} help has no example"


def test_lazy_command_list_matches_the_commands_own_help():
    import click

    from zg_excel.cli import LazyGroup

    for name, (_, _, short) in LazyGroup.lazy.items():
        cmd = cli.get_command(click.Context(cli), name)
        assert short[:8] == (cmd.help or "").strip()[:8], name
