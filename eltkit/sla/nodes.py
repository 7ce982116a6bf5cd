"""Which nodes an SLA covers: its dbt selection, narrowed to nodes that produce results.

An SLA is only as good as its selection. A selection that matches nothing, or
has a word that matches nothing (``fct_ordres``), would make an SLA that is
trivially met or silently narrower than promised, so both are config errors
that name the SLA, the file and the line.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from eltkit.config import CONFIG_FILE_NAME
from eltkit.errors import ConfigError, SelectionError
from eltkit.graph.nodes import BUILDABLE_TYPES, TASK, TEST_TYPES
from eltkit.project import Project
from eltkit.sla.config import SlaConfig
from eltkit.yaml_lines import load_located_yaml

#: Nodes that get a result in a run. Sources and exposures never do, so they
#: cannot be "built by" a deadline and are left out of an SLA.
COUNTED_TYPES = BUILDABLE_TYPES | TEST_TYPES | {TASK}


def sla_nodes(project: Project, name: str, sla: SlaConfig) -> list[str]:
    """The unique ids of the models, seeds, snapshots, tests and tasks ``sla`` covers.

    Tests come along with the models they test (dbt's eager indirect
    selection), because "fresh by 08:00" means built and tested by then.
    """
    try:
        result = project.select([sla.select], [sla.exclude] if sla.exclude else None)
    except SelectionError as exc:
        raise ConfigError(f"{_where(project, name)}: slas.{name}.select: {exc.message}") from exc
    hint = f"check the names with `eltkit ls --select {sla.select}`"
    if result.warnings:
        raise ConfigError(
            f"{_where(project, name)}: slas.{name}.select: {result.warnings[0]}; {hint}")
    graph = project.graph
    nodes = sorted(uid for uid in result.selected
                   if graph.nodes[uid].resource_type in COUNTED_TYPES)
    if not nodes:
        raise ConfigError(
            f"{_where(project, name)}: slas.{name}.select: {sla.select!r} selects no model, "
            f"seed, snapshot, test or task of this project; {hint}")
    return nodes


def _where(project: Project, name: str) -> str:
    """``eltkit.yml:LINE`` of the SLA's select key, or the file alone if unknown."""
    path = project.config_path or Path(project.root) / CONFIG_FILE_NAME
    try:
        line = load_located_yaml(path).line_of(("slas", name, "select"))
    except (OSError, yaml.YAMLError):
        line = None
    return f"{path}:{line}" if line else str(path)
