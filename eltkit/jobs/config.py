"""The ``jobs:`` section of eltkit.yml.

A job is a list of steps (dbt commands, a freshness check, one Python task)
and what starts it: a cron schedule, the success of other jobs (``after``),
files landing (``on_file``), or a person (``eltkit trigger``). Everything a
job can get wrong is checked when the file is loaded, so a typo surfaces on
the developer's machine rather than at the first 3 a.m. tick.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from croniter import croniter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from eltkit.config_types import Duration, TimeZoneName, invalid
from eltkit.notify.config import NotifyActions


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selection(_Strict):
    """Which nodes a dbt-like step runs, in dbt's selection syntax."""

    select: str | None = None
    exclude: str | None = None
    selector: str | None = None


def _selection_shorthand(value: Any) -> Any:
    """``run: "+marts"`` is short for ``run: {select: "+marts"}``; ``run: {}`` runs all."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"select": value}
    return value


SelectionArg = Annotated[Selection, BeforeValidator(_selection_shorthand)]

DBT_STEPS = ("run", "build", "test", "seed", "snapshot")
STEP_KINDS = (*DBT_STEPS, "freshness", "task")


class Step(_Strict):
    """One step: exactly one of the keys below."""

    run: SelectionArg | None = None
    build: SelectionArg | None = None
    test: SelectionArg | None = None
    seed: SelectionArg | None = None
    snapshot: SelectionArg | None = None
    freshness: SelectionArg | None = None
    task: str | None = None

    @property
    def kind(self) -> str:
        return next(kind for kind in STEP_KINDS if kind in self.model_fields_set)

    @property
    def selection(self) -> Selection:
        value = getattr(self, self.kind)
        return value if isinstance(value, Selection) else Selection()

    def describe(self) -> str:
        if self.kind == "task":
            return f"task {self.task}"
        parts = [self.kind]
        selection = self.selection
        if selection.select:
            parts.append(f"--select {selection.select}")
        if selection.exclude:
            parts.append(f"--exclude {selection.exclude}")
        if selection.selector:
            parts.append(f"--selector {selection.selector}")
        return " ".join(parts)


def _one_step_key(value: Any) -> Any:
    if isinstance(value, str) and value in (*DBT_STEPS, "freshness"):
        return {value: {}}
    if not isinstance(value, dict) or len(value) != 1:
        raise invalid(
            f"a step is one of {', '.join(STEP_KINDS)} with its settings, e.g. "
            "{run: {select: \"+marts\"}}"
        )
    key = next(iter(value))
    if key not in STEP_KINDS:
        raise invalid(f"unknown step {key!r}; steps are {', '.join(STEP_KINDS)}")
    if key != "task" and value[key] is None:
        return {key: {}}
    return value


StepArg = Annotated[Step, BeforeValidator(_one_step_key)]


class OnFile(_Strict):
    """Start the job when files matching ``path`` (a glob, relative to eltkit.yml) land."""

    path: str = Field(min_length=1)
    debounce: Duration = 30.0

    def folder(self, root: Path) -> Path:
        """The folder to watch: the glob's part before its first wildcard."""
        parts = []
        for part in Path(self.path).parts[:-1]:
            if any(char in part for char in "*?["):
                break
            parts.append(part)
        return (root / Path(*parts)) if parts else root

    @field_validator("path")
    @classmethod
    def _relative_glob(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise invalid(f"{value!r}: write a glob relative to eltkit.yml's folder, "
                             "inside the project, e.g. landing/*.csv")
        if "**" in value:
            raise invalid(f"{value!r}: ** is not supported; name each folder level, "
                             "e.g. landing/*/*.csv")
        return value


class JobConfig(_Strict):
    """One job of eltkit.yml's ``jobs:``."""

    steps: list[StepArg] = Field(min_length=1)
    schedule: str | None = None
    timezone: TimeZoneName = "UTC"
    start_date: date | None = None
    after: list[str] = Field(default_factory=list)
    on_file: OnFile | None = None
    catchup: bool = True
    max_catchup: int = Field(default=24, ge=1)
    max_active_runs: int = Field(default=1, ge=1)
    retries: int = Field(default=0, ge=0)
    retry_delay: Duration = 60.0
    pause_after_failures: int = Field(default=3, ge=0)
    max_duration: Duration | None = None
    threads: int | None = Field(default=None, ge=1, le=256)
    vars: dict[str, Any] = Field(default_factory=dict)
    on_failure: NotifyActions = Field(default_factory=list)
    on_success: NotifyActions = Field(default_factory=list)

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise invalid(
                f"{value!r} is not a valid cron expression; write 5 fields, "
                "e.g. \"0 5 * * *\" for 05:00 every day"
            )
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def triggers(self) -> list[str]:
        """How the job starts, in words, for `eltkit jobs`."""
        found = []
        if self.schedule:
            found.append(f"cron {self.schedule} ({self.timezone})")
        if self.after:
            found.append("after " + ", ".join(self.after))
        if self.on_file:
            found.append(f"files {self.on_file.path}")
        return found or ["manual"]

