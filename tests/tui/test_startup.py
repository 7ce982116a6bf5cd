"""The TUI starts without dbt: it reads the manifest as JSON, only when a screen needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, sys
from pathlib import Path
from eltkit.cli import main  # what `eltkit tui` imports
from eltkit.project import load_project
from eltkit.run.runner import history_path
from eltkit.tui.app import make_app
from eltkit.tui.screens.node import NodeScreen
from eltkit.tui.screens.run import RunScreen

async def go():
    project = load_project(Path(sys.argv[1]), parse=False)
    app = make_app(project, history_path(project))
    async with app.run_test() as pilot:
        for screen_type, key in ((None, None), (RunScreen, "enter"), (NodeScreen, "enter")):
            if key:
                await pilot.press(key)
            for _ in range(200):
                if getattr(app.screen, "loads", 0) and (
                        screen_type is None or isinstance(app.screen, screen_type)):
                    break
                await pilot.pause(0.05)
        assert isinstance(app.screen, NodeScreen), app.screen
        assert app.catalog.graph() is not None
    print(sorted(m for m in sys.modules if m == "dbt" or m.startswith("dbt.")))

asyncio.run(go())
"""


def test_the_tui_never_imports_dbt(history_template: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(history_template)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


STARTUP = """
import asyncio, sys
from pathlib import Path
from eltkit.cli_tui import tui_command  # `eltkit tui`: its own imports, then the app's
from eltkit.project import load_project
from eltkit.tui.app import make_app
from eltkit.tui.data import history_file

async def go():
    project = load_project(Path(sys.argv[1]), parse=False)
    app = make_app(project, history_file(project))
    async with app.run_test() as pilot:
        for _ in range(200):
            if getattr(app.screen, "loads", 0):
                break
            await pilot.pause(0.05)
        assert app.screen.loads, app.screen
    print(sorted(m for m in ("sqlglot", "eltkit.run.runner", "eltkit.lineage",
                             "eltkit.tui.screens.dialogs", "eltkit.tui.screens.run",
                             "eltkit.tui.screens.freshness", "eltkit.tui.screens.lineage",
                             "eltkit.tui.screens.jobs", "eltkit.tui.screens.job_runs",
                             "eltkit.tui.screens.slas", "eltkit.tui.web", "eltkit.jobs.overview",
                             "eltkit.sla.monitor", "textual_serve")
                 if m in sys.modules))

asyncio.run(go())
"""


def test_startup_loads_only_what_the_runs_screen_needs(history_template: Path) -> None:
    """sqlglot (0.2 s), the runner (40 ms) and the other screens load when first used."""
    result = subprocess.run([sys.executable, "-c", STARTUP, str(history_template)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_tuis_history_file_is_the_one_every_command_uses(mini_project: Path) -> None:
    from eltkit.project import load_project
    from eltkit.run.runner import history_path
    from eltkit.tui.data import history_file

    default = load_project(mini_project, parse=False)
    assert history_file(default) == history_path(default) == \
        mini_project / ".eltkit" / "history.db"
    config = mini_project / "eltkit.yml"
    config.write_text(config.read_text() + "history: state/runs.db\n")
    configured = load_project(mini_project, parse=False)
    assert history_file(configured) == history_path(configured) == \
        (mini_project / "state" / "runs.db").resolve()
