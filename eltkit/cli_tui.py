"""`eltkit tui`: the live terminal UI over the run history."""

from __future__ import annotations

from pathlib import Path

import click

from eltkit.cli_common import handle_errors, project_options


@click.command("tui")
@project_options
@click.option("--history", "history_file", type=click.Path(path_type=Path), default=None,
              help="Watch this history file instead of the project's.")
@click.option("--web", is_flag=True,
              help='Serve the TUI to a browser (needs textual-serve: pip install "eltkit[web]").')
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port of --web.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface of --web (0.0.0.0: every interface; anyone reaching it can "
                   "start runs).")
@handle_errors
def tui_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                vars_json: str | None, history_file: Path | None, web: bool, port: int,
                host: str) -> None:
    """Watch runs live: recent runs, one run's nodes, one node's SQL, logs and history.

    Keys are listed in the footer and by `?`. Runs started, retried or cancelled
    from here are separate `eltkit` processes: closing the TUI does not stop them.
    """
    from eltkit.cli import _project
    from eltkit.tui.app import make_app

    # eltkit.tui.data, not eltkit.run.runner: importing the runner costs 40 ms of start-up.
    from eltkit.tui.data import history_file as project_history

    project = None
    if history_file is None or project_dir is not None:
        # parse=False: the TUI reads target/manifest.json as it is and never imports dbt.
        project = _project(project_dir, target, profiles_dir, vars_json, parse=False)
    if history_file is not None:
        path = history_file.resolve()
    else:
        assert project is not None
        path = project_history(project)
    options: list[str] = []
    for flag, value in (("--target", target), ("--profiles-dir", profiles_dir),
                        ("--vars", vars_json)):
        if value is not None:
            options += [flag, str(value)]
    if web:
        from eltkit.tui.web import serve

        where = ["--project", str(project.root)] if project is not None else []
        if history_file is not None:
            where += ["--history", str(path)]
        serve([*where, *options], host=host, port=port,
              title=f"eltkit tui: {project.name if project is not None else path}")
        return
    make_app(project, path, launch_options=options).run()
