"""``freshness:`` in eltkit.yml: whether runs gate their models on source freshness.

Kept apart from the gate itself (eltkit/schedule/gate.py) so reading eltkit.yml
never imports the freshness query builder (sqlglot), which only a gated run needs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from eltkit.errors import ConfigError

GateLevel = Literal["off", "warn", "error"]
GATE_LEVELS: tuple[str, ...] = ("off", "warn", "error")
#: Runs that are never gated unless asked for explicitly (``--freshness-gate``):
#: dev-mode rebuilds work on whatever local data there is, and pipeline tests
#: load fixture rows whose load times are whatever the test wrote.
UNGATED_TRIGGERS = frozenset({"dev", "pytest"})


class FreshnessSettings(BaseModel):
    """``freshness: {gate: off | warn | error}``.

    ``error`` skips the nodes downstream of an error-stale source (or one whose
    check failed); ``warn`` skips them for warn-stale sources too; ``off`` (the
    default) never checks freshness during a run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    gate: GateLevel = "off"

    @field_validator("gate", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        # YAML 1.1 reads a bare `off` as false: take it as the word the user wrote.
        if value is False:
            return "off"
        if value is True:
            raise ValueError("write the gate as warn or error (or off), not a boolean")
        return value


def gate_level(configured: str, override: str | None, trigger: str) -> str:
    """The level a run uses: the explicit override, else eltkit.yml's (off for dev/pytest)."""
    if override is not None:
        if override not in GATE_LEVELS:
            raise ConfigError(f"freshness gate must be one of {', '.join(GATE_LEVELS)}, "
                              f"not {override!r}")
        return override
    return "off" if trigger in UNGATED_TRIGGERS else configured
