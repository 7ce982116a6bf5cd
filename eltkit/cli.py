"""The ``eltkit`` command. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from eltkit import __version__
from eltkit.cli_common import (
    echo_json,
    handle_errors,
    parse_vars,
    project_options,
    selection_options,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eltkit")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug: bool) -> None:
    """Run, schedule, watch and test a dbt project and its Python tasks as one DAG."""


def _project(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
             vars_json: str | None, parse: bool = True) -> Any:
    from eltkit.project import load_project

    return load_project(project_dir, target=target, profiles_dir=profiles_dir,
                        vars=parse_vars(vars_json), parse=parse)


def _selected(project: Any, select: tuple[str, ...], models: tuple[str, ...],
              exclude: tuple[str, ...], selector: str | None, state: Path | None,
              indirect_selection: str, resource_types: tuple[str, ...] = (),
              exclude_resource_types: tuple[str, ...] = ()) -> list[str]:
    if models and select:
        raise click.UsageError("--models and --select are mutually exclusive")
    if models:
        select, resource_types = models, resource_types or ("model",)
    result = project.select(
        select or None, exclude or None, selector=selector, resource_types=resource_types,
        exclude_resource_types=exclude_resource_types, indirect_selection=indirect_selection,
        state=state,
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    return sorted(result.selected)


@main.command("ls")
@project_options
@selection_options
@click.option("--resource-type", "resource_types", multiple=True,
              help="Only these resource types (model, seed, test, source, task, all, ...).")
@click.option("--exclude-resource-type", "exclude_resource_types", multiple=True)
@click.option("--output", "-o", type=click.Choice(["name", "selector", "path", "json"]),
              default="name", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --output json.")
@click.option("--no-parse", is_flag=True,
              help="Use target/manifest.json as it is, even if the project changed.")
@handle_errors
def ls_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
               vars_json: str | None, select: tuple[str, ...], models: tuple[str, ...],
               exclude: tuple[str, ...], selector: str | None, state: Path | None,
               indirect_selection: str, resource_types: tuple[str, ...],
               exclude_resource_types: tuple[str, ...], output: str, as_json: bool,
               no_parse: bool) -> None:
    """List the nodes a selection picks: dbt resources and Python tasks."""
    project = _project(project_dir, target, profiles_dir, vars_json, parse=not no_parse)
    selected = _selected(project, select, models, exclude, selector, state, indirect_selection,
                         resource_types, exclude_resource_types)
    if not selected:
        click.echo("warning: no nodes selected", err=True)
        return
    nodes = project.graph.nodes
    write = sys.stdout.write
    if as_json or output == "json":
        import json

        write("".join(json.dumps(nodes[uid].to_json()) + "\n" for uid in selected))
    elif output == "selector":
        write("".join(nodes[uid].selector + "\n" for uid in selected))
    elif output == "path":
        write("".join(nodes[uid].original_file_path + "\n" for uid in selected))
    else:
        write("".join(nodes[uid].search_name + "\n" for uid in selected))


@main.command("dag")
@project_options
@selection_options
@click.option("--format", "view", type=click.Choice(["layers", "tree"]), default="layers",
              show_default=True, help="Layers in run order, or a tree from the roots.")
@click.option("--tests/--no-tests", default=False, help="Draw data and unit tests too.")
@click.option("--json", "as_json", is_flag=True, help="Print layers as JSON lists of unique ids.")
@handle_errors
def dag_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                vars_json: str | None, select: tuple[str, ...], models: tuple[str, ...],
                exclude: tuple[str, ...], selector: str | None, state: Path | None,
                indirect_selection: str, view: str, tests: bool, as_json: bool) -> None:
    """Draw the DAG of a selection in the terminal."""
    from rich.console import Console

    from eltkit.dag_view import layers_view, tree_view

    project = _project(project_dir, target, profiles_dir, vars_json)
    selected = _selected(project, select, models, exclude, selector, state, indirect_selection)
    graph = project.graph
    if not tests:
        selected = [uid for uid in selected if not graph.nodes[uid].is_test]
    if not selected:
        click.echo("warning: no nodes selected", err=True)
        return
    if as_json:
        echo_json(graph.topological_layers(selected))
        return
    console = Console(highlight=False, soft_wrap=True)
    if view == "tree":
        console.print(tree_view(graph, selected, f"{project.name}: {len(selected)} nodes"))
    else:
        for line in layers_view(graph, selected):
            console.print(line)


def _register_commands() -> None:
    """The commands live in modules of their own, each importing only what it needs."""
    from eltkit.cli_health import health_command
    from eltkit.cli_jobs import COMMANDS as JOB_COMMANDS
    from eltkit.cli_run import (
        build_command,
        dev_command,
        freshness_command,
        history_command,
        retry_command,
        run_command,
        test_command,
    )
    from eltkit.cli_sla import sla_command
    from eltkit.cli_tui import tui_command

    for command in (run_command, build_command, test_command, retry_command, history_command,
                    dev_command, freshness_command, tui_command, *JOB_COMMANDS, sla_command,
                    health_command):
        main.add_command(command)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
