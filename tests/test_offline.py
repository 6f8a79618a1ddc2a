"""A run needs no network: every socket is blocked while it solves and writes."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from planner.cli.commands import main


def test_run_with_sockets_blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args, **_kwargs):
        raise OSError("network access attempted during a dcplan run")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    out = tmp_path / "run"
    assert main(["run", "-o", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    # hyperlinks (Leaflet's attribution) are fine; loading a remote script, style, image is not
    assert not re.search(r"""<(script|img|iframe)[^>]*\ssrc\s*=\s*["']https?://""", html)
    assert not re.search(r"""<link[^>]*\shref\s*=\s*["']https?://""", html)
    assert "url(http" not in html
    assert (out / "capacity_map.gpkg").stat().st_size > 0
