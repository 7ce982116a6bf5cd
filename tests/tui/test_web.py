"""`eltkit tui --web`: the same app served to a browser by textual-serve."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp

from tests.conftest import run_cli


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch_when_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """GET ``url`` until the server answers (it starts in a second or two)."""
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                raise AssertionError(f"the server exited ({process.returncode})") from None
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.2)


async def screen_through_websocket(url: str, wanted: bytes, timeout: float = 60) -> bytes:
    """What the app draws for a browser tab of 100x30, until ``wanted`` shows."""
    received = b""
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(f"{url}?width=100&height=30") as websocket:
        deadline = time.monotonic() + timeout
        while wanted not in received and time.monotonic() < deadline:
            try:
                message = await websocket.receive(timeout=2)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                break
    return received


def test_web_serves_the_tui_to_a_browser(tui_project: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "eltkit.cli", "tui", "--web", "--port", str(port)],
        cwd=tui_project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"})
    try:
        page = fetch_when_up(f"http://127.0.0.1:{port}/", process)
        assert "eltkit tui: mini" in page  # textual-serve's page, titled for the project
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
        # A browser tab gets a real `eltkit tui`: the runs screen of this project's history.
        drawn = asyncio.run(screen_through_websocket(f"http://127.0.0.1:{port}/ws",
                                                     b"success"))
        assert b"Freshness" in drawn and b"Start run" in drawn
        assert b"failed" in drawn and b"success" in drawn  # the two recorded builds
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_web_without_textual_serve_says_how_to_install_it(tui_project: Path,
                                                          tmp_path: Path) -> None:
    stub = tmp_path / "stub" / "textual_serve"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('textual_serve is not installed')\n")
    result = run_cli("tui", "--web", cwd=tui_project, env={"PYTHONPATH": str(stub.parent)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'error: `eltkit tui --web` needs textual-serve, an optional dependency: '
        'pip install "eltkit[web]"']


def test_web_on_a_port_in_use_is_one_line(tui_project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("tui", "--web", "--port", str(port), cwd=tui_project, timeout=60)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"cannot serve on 127.0.0.1:{port}" in errors[0]
    assert "pick another --port" in errors[0]
    assert "Traceback" not in result.stderr


def test_web_refuses_a_port_out_of_range(tui_project: Path) -> None:
    result = run_cli("tui", "--web", "--port", "70000", cwd=tui_project)
    assert result.returncode == 2
    assert "'--port': 70000 is not in the range 1<=x<=65535" in result.stderr
