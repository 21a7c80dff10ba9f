"""Settings of the web server: ``serve.toml`` in the working folder, every key optional.

::

    [serve]
    max_file_mb = 20            # one uploaded file at most (MB)
    max_files = 20              # files in one upload at most
    uploads_per_window = 60     # files one link may upload per window …
    window_seconds = 600        # … of this many seconds (then: 请稍后再试)
    csrf_hours = 24             # how long a page's form stays valid

Defaults are the values above (``ServeSettings``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from ..rules import ConfigError
from ..workspace import Workspace



@dataclass(frozen=True)
class ServeSettings:
    max_file_mb: float = 20.0
    max_files: int = 20
    uploads_per_window: int = 60
    window_seconds: float = 600.0
    csrf_hours: float = 24.0

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_request_bytes(self) -> int:
        """The whole multipart body: every file at its limit, plus the form's few fields."""
        return self.max_file_bytes * self.max_files + 64 * 1024


def load_settings(workdir: Path) -> ServeSettings:
    """``serve.toml`` of the working folder (defaults where absent). A bad value raises ``ConfigError``."""
    path = Workspace(Path(workdir)).web_settings
    if not path.exists():
        return ServeSettings()
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}：无法读取（{exc}）") from None
    section = data.get("serve", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}：[serve] 应为一个设置节")
    known = {f.name: f for f in fields(ServeSettings)}
    values = {}
    for key, value in section.items():
        if key not in known:
            raise ConfigError(f"{path}：[serve] 中没有“{key}”这一设置（可用：{'、'.join(known)}）")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{path}：[serve] {key} 应为正数（收到：{value!r}）")
        values[key] = int(value) if known[key].type == "int" else float(value)
    return ServeSettings(**values)
