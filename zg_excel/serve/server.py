"""Run the application on cheroot (pure-Python WSGI server; TLS with its builtin ssl adapter)."""

from __future__ import annotations

import socket
from pathlib import Path


def make_server(app, host: str, port: int, *, cert: Path | None = None, key: Path | None = None,
                threads: int = 16):
    """A cheroot server bound to (host, port); HTTPS when ``cert`` and ``key`` are given."""
    from cheroot import wsgi

    server = wsgi.Server((host, port), app, numthreads=threads, request_queue_size=64,
                         server_name="zg-excel")
    server.max_request_body_size = app.config.get("MAX_CONTENT_LENGTH") or 0
    if cert and key:
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    return server


def public_base(host: str, port: int, https: bool, url: str | None = None) -> str:
    """The address units use: ``url`` when given, else this PC's address for a wildcard bind."""
    if url:
        return url.rstrip("/")
    shown = host
    if host in ("0.0.0.0", "::", ""):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("10.255.255.255", 1))  # no packet is sent: picks the LAN interface
                shown = s.getsockname()[0]
        except OSError:
            shown = socket.gethostname()
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"{'https' if https else 'http'}://{shown}:{port}"
