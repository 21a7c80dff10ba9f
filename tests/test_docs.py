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


def _all_commands():
    """Every command of ``zg-excel``, the lazy ones loaded from the group's table."""
    import click

    from zg_excel.cli import LazyGroup

    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in LazyGroup.lazy}


def undocumented(readme: str) -> list[str]:
    """The commands (and sub-commands) that ``readme`` never mentions as ``zg-excel <name>``."""
    missing = []
    for name, cmd in _all_commands().items():
        if not re.search(rf"zg-excel {name}\b", readme):
            missing.append(f"zg-excel {name}")
        for sub in getattr(cmd, "commands", {}) or {}:
            if f"zg-excel {name} {sub}" not in readme:
                missing.append(f"zg-excel {name} {sub}")
    return missing


def test_all_eight_commands_are_checked():
    assert sorted(_all_commands()) == ["check", "init", "mail", "merge", "remind", "rules", "serve", "template"]


def test_every_command_is_in_the_readme():
    assert undocumented(README) == []


def test_the_check_fails_when_a_mention_is_removed():
    for name in ("remind", "mail", "check"):
        without = re.sub(rf"zg-excel {name}\b", "zg-excel", README)
        assert f"zg-excel {name}" in undocumented(without), name
    assert "zg-excel rules check" in undocumented(README.replace("zg-excel rules check", "zg-excel rules"))


def test_every_command_has_chinese_help_with_an_example():
    def walk(group, prefix):
        for name, cmd in group.commands.items():
            yield f"{prefix} {name}", cmd
            if hasattr(cmd, "commands"):
                yield from walk(cmd, f"{prefix} {name}")

    _all_commands()  # load the lazy commands so that walk() sees them
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
