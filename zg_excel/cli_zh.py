"""Chinese for click's own words (Usage, Options, error messages), so every screen a user sees is Chinese.

click marks its strings with ``gettext`` but ships no Chinese catalog; its
modules bind ``_`` at import time, so the translation is installed on those
names. Unknown strings pass through unchanged.
"""

from __future__ import annotations

import click

ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "Aborted!": "已取消。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing command.": "缺少命令。",
    "Missing {param_type}": "缺少{param_type}",
    "No such command {name!r}.": "没有这个命令：{name!r}。",
    "No such option {name!r}.": "没有这个选项：{name!r}。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不需要值。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接执行。",
    "Press any key to continue...": "按任意键继续……",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "integer": "整数",
    "float": "数字",
}


def _zh(message: str) -> str:
    return ZH.get(message, message)


def install() -> None:
    """Point click's ``_`` at the Chinese table (idempotent)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.termui
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.termui, click.types):
        if hasattr(module, "_"):
            module._ = _zh  # type: ignore[attr-defined]
    click.exceptions.UsageError.__init__.__globals__["_"] = _zh


_METAVARS = {"INTEGER": "整数", "TEXT": "文本", "FLOAT": "数字", "DIRECTORY": "文件夹", "FILE": "文件",
             "PATH": "路径", "BOOLEAN": "是/否"}


def localize(command: click.Command) -> None:
    """Chinese placeholders in usage lines ([选项], 整数, 文本…) for a command tree."""
    command.options_metavar = "[选项]"
    if isinstance(command, click.Group):
        command.subcommand_metavar = "命令 [参数]..."
    for param in command.params:
        if isinstance(param, click.Option) and param.metavar is None and not param.is_flag:
            name = param.type.get_metavar(param, click.Context(command)) if hasattr(param.type, "get_metavar") else None
            if name is None:
                name = param.type.name.upper()
            param.metavar = _METAVARS.get(name, name)
    for sub in getattr(command, "commands", {}).values():
        localize(sub)
