"""`eltkit tui --web`: the same app in a browser, served by textual-serve.

textual-serve is an optional dependency (``pip install "eltkit[web]"``): a
small aiohttp server that starts one `eltkit tui` process per browser tab and
relays its screen over a websocket. Each tab is a full TUI with its own
actions, so anyone who can reach the port can start and cancel runs: the
default host is the loopback interface (reach it through an SSH tunnel).
"""

from __future__ import annotations

import shlex
import socket
import sys

from eltkit.errors import EltkitError

INSTALL_HINT = 'pip install "eltkit[web]"'
#: Hosts that listen on every interface; a browser needs a name it can reach instead.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def tui_command(app_args: list[str]) -> str:
    """The shell command textual-serve runs for each browser tab."""
    return shlex.join([sys.executable, "-m", "eltkit.cli", "tui", *app_args])


def serve(app_args: list[str], *, host: str, port: int, title: str) -> None:
    """Serve `eltkit tui APP_ARGS` on http://HOST:PORT until Ctrl-C or SIGTERM."""
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise EltkitError(f"`eltkit tui --web` needs textual-serve, an optional dependency: "
                          f"{INSTALL_HINT}") from exc
    # The page tells the browser where the websocket is; 0.0.0.0 is not an address it
    # can connect to, so name this machine instead.
    public_url = f"http://{socket.getfqdn()}:{port}" if host in WILDCARD_HOSTS else None
    server = Server(tui_command(app_args), host=host, port=port, title=title,
                    public_url=public_url)
    try:
        server.serve()
    except OSError as exc:
        raise EltkitError(f"cannot serve on {host}:{port}: {exc.strerror or exc}; pick "
                          "another --port (or --host)") from exc
