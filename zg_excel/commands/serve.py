"""``zg-excel serve``: the web page where units upload returns and see at once what will be scored.

Only parses options and calls :mod:`zg_excel.serve`; the server runs until Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    AS_OF_HELP,
    CONTEXT,
    YEAR_HELP,
    SetupError,
    parse_date,
    resolve_run,
    workdir_option,
)
from .common import load_settings as load_common_settings


@click.command("serve", context_settings=CONTEXT)
@workdir_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；要让内网其他电脑访问，用 0.0.0.0")
@click.option("--port", type=int, default=8080, show_default=True, help="端口")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="HTTPS 证书文件（PEM）；与 --key 一起使用")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="HTTPS 私钥文件（PEM）")
@click.option("--url", default=None, help="写进链接的网址（如 http://10.1.2.3:8080），默认按本机地址")
@click.option("--new-links", is_flag=True, help="作废全部旧链接，重新生成")
@click.option("--year", type=int, default=None, help=YEAR_HELP)
@click.option("--as-of", "as_of", callback=parse_date, default=None, help=AS_OF_HELP)
def serve(workdir: Path, host: str, port: int, cert, key, url, new_links: bool, year, as_of) -> None:
    """启动网页报送：各单位用浏览器上传报表，立即看到检查和计分结果。

    \b
    每个单位一个专用链接（写在 网页报送/网页报送链接.txt 和 .xlsx 中，可直接粘贴进通知）；
    办公室的管理页面地址显示在下方，并写在 网页报送/办公室入口.txt 中。
    示例：zg-excel serve -w 2026组工信息
          zg-excel serve -w 2026组工信息 --host 0.0.0.0 --port 8080
    按 Ctrl+C 停止。
    """
    from zg_excel.rules import ConfigError
    from zg_excel.serve.app import create_app
    from zg_excel.serve.server import make_server, public_base
    from zg_excel.serve.settings import load_settings
    from zg_excel.serve.store import Desk
    from zg_excel.serve.tokens import ensure_links

    if bool(cert) != bool(key):
        raise SetupError("--cert 和 --key 须同时给出")
    load_common_settings(workdir)  # the checks every command runs (bad settings: exit 2, nothing read)
    year, _ = resolve_run(workdir, year, as_of)  # the folder's year; the as-of date moves with the days unless given
    try:
        settings = load_settings(workdir)
        desk = Desk(workdir, settings, year=year, as_of=as_of)
    except ConfigError as exc:
        raise SetupError(str(exc)) from None
    base = public_base(host, port, bool(cert), url)
    links = ensure_links(workdir, desk.units, base, reissue=new_links)
    app = create_app(workdir, settings, desk=desk)
    try:
        server = make_server(app, host, port, cert=cert, key=key)
        server.prepare()
    except OSError as exc:
        raise SetupError(f"无法在 {host}:{port} 上启动（{exc}）；端口可能已被占用，可用 --port 换一个") from None
    click.echo(f"网页报送已启动：{base}/")
    click.echo(f"办公室管理页面（请勿外传）：{links.office}")
    click.echo(f"各单位链接（{len(links.units)}个）已写入：{links.files[0]}、{links.files[1]}")
    if links.new:
        click.echo(f"本次新生成链接：{'、'.join(links.new[:10])}{' 等' if len(links.new) > 10 else ''}"
                   f"（{len(links.new)}个；旧链接如有即失效，请把新链接发给这些单位）")
    click.echo("正在统计收件文件夹……按 Ctrl+C 停止。")
    desk.refresh_snapshot()
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("网页报送已停止")
