"""eltkit.yml: the project's settings, validated by pydantic.

Errors are reported as ``eltkit.yml:LINE: key.path: what is wrong`` so a person
can jump straight to the line. Unknown keys are errors, not silently ignored:
a typo in a setting must never fall back to a default unnoticed.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from eltkit.errors import ConfigError
from eltkit.schedule.gate_config import FreshnessSettings
from eltkit.yaml_lines import LocatedYaml, load_located_yaml

if TYPE_CHECKING:
    from eltkit.jobs.config import JobConfig
    from eltkit.sla.config import SlaConfig

CONFIG_FILE_NAME = "eltkit.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DbtSettings(_Strict):
    """Where the dbt project is and how to connect it."""

    project_dir: Path = Path(".")
    profiles_dir: Path | None = None
    target: str | None = None
    threads: int | None = Field(default=None, ge=1, le=256)
    vars: dict[str, Any] = Field(default_factory=dict)


class RunSettings(_Strict):
    """Defaults for `eltkit run` that a project wants different from eltkit's."""

    default_retries: int = Field(default=0, ge=0)
    default_retry_delay: float = Field(default=0.0, ge=0)
    dbt_retries: int = Field(default=0, ge=0)
    pools: dict[str, int] = Field(default_factory=dict)

    @field_validator("pools")
    @classmethod
    def _positive_pool_sizes(cls, pools: dict[str, int]) -> dict[str, int]:
        for name, size in pools.items():
            if size < 1:
                raise ValueError(f"pool {name!r} must allow at least 1 slot, got {size}")
        return pools


class EltkitConfig(_Strict):
    """The whole eltkit.yml. Relative paths are relative to the file's folder."""

    dbt: DbtSettings = Field(default_factory=DbtSettings)
    tasks: list[str] = Field(default_factory=list)
    history: Path | None = None
    run: RunSettings = Field(default_factory=RunSettings)
    freshness: FreshnessSettings = Field(default_factory=FreshnessSettings)
    # Jobs and SLAs are validated on their own, and only when the file has them
    # (see LAZY_SECTIONS): building their models (cron, timezones, notifications)
    # costs a tenth of a second, which `eltkit ls` and the TUI's start-up would
    # otherwise pay on every project.
    if TYPE_CHECKING:
        jobs: dict[str, JobConfig]
        slas: dict[str, SlaConfig]
    else:
        jobs: dict[str, Any] = Field(default_factory=dict)
        slas: dict[str, Any] = Field(default_factory=dict)


LAZY_SECTIONS = {"jobs": ("eltkit.jobs.config", "JobConfig"),
                 "slas": ("eltkit.sla.config", "SlaConfig")}


def _section_type(key: str) -> Any:
    """``dict[str, JobConfig]`` for ``jobs``: the type a lazy section is validated as."""
    module, name = LAZY_SECTIONS[key]
    model = getattr(importlib.import_module(module), name)
    return dict[str, model]  # type: ignore[valid-type]


def load_config(path: Path) -> EltkitConfig:
    """Read and validate eltkit.yml at ``path``; raise ConfigError naming file and line."""
    try:
        located = load_located_yaml(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc

    data = located.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}:1: the file must be a mapping of settings (dbt:, tasks:, ...), "
            f"not a {type(data).__name__}"
        )
    try:
        config = EltkitConfig.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, path, located) from exc
    sections = {}
    for key in LAZY_SECTIONS:
        if getattr(config, key):
            adapter: TypeAdapter[Any] = TypeAdapter(_section_type(key))
            try:
                sections[key] = adapter.validate_python(getattr(config, key))
            except ValidationError as exc:
                raise _config_error(exc, path, located, prefix=(key,)) from exc
    config = config.model_copy(update=sections)
    problem = _cross_reference_problem(config)
    if problem is not None:
        location, message = problem
        line_number = located.line_of(location)
        where = f"{path}:{line_number}" if line_number else str(path)
        raise ConfigError(f"{where}: {'.'.join(map(str, location))}: {message}")
    return config


def _config_error(exc: ValidationError, path: Path, located: LocatedYaml,
                  prefix: tuple[str, ...] = ()) -> ConfigError:
    """The first problem as ``file:line: key.path: message (and N more problems)``."""
    first = exc.errors()[0]
    location = prefix + tuple(first["loc"])
    line_number = located.line_of(location)
    key = ".".join(str(part) for part in location) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = f"unknown key; allowed here: {_allowed_keys(location)}"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    where = f"{path}:{line_number}" if line_number else str(path)
    return ConfigError(f"{where}: {key}: {message}{suffix}")


def _cross_reference_problem(config: EltkitConfig) -> tuple[tuple[Any, ...], str] | None:
    """Checks that span entries (one job naming another), which pydantic validates apart."""
    if not config.jobs:
        return None
    from eltkit.jobs.dependencies import job_dependency_problem

    return job_dependency_problem(config.jobs)


def _allowed_keys(location: tuple[Any, ...]) -> str:
    """The keys a mapping accepts, for the message of an unknown-key error."""
    model: type[BaseModel] = EltkitConfig
    parts = list(location[:-1])
    while parts:
        name = str(parts.pop(0))
        field = model.model_fields.get(name)
        annotation: Any = field.annotation if field else None
        if model is EltkitConfig and name in LAZY_SECTIONS:
            annotation = _section_type(name)
        if get_origin(annotation) is dict:
            # A mapping of named entries (jobs, slas): skip the entry's name.
            annotation = get_args(annotation)[1]
            if parts:
                parts.pop(0)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return "see docs/configuration.md"
    return ", ".join(model.model_fields)
