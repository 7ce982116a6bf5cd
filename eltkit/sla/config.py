"""The ``slas:`` section of eltkit.yml.

An SLA promises that a dbt selection is built (and tested) by a deadline and/or
never older than a maximum staleness, and says whom to tell, and when, if that
promise slips::

    slas:
      marketing_dashboard:
        select: "fct_orders fct_customers"
        deadline: "08:00"            # or a 5-field cron: "0 8 * * 1-5"
        timezone: Europe/Berlin      # IANA name; default UTC
        max_staleness: 26h
        escalation:
          - {after: 0m, notify: log}
          - {after: 30m, notify: {webhook: {url_env: ELTKIT_ALERT_WEBHOOK}}}

Everything that can be checked without the project's graph is checked here,
so a typo fails when the file is loaded, with the file, line and key named.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from eltkit.config_types import Duration, TimeZoneName
from eltkit.notify.config import NotifyAction

_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})$")
_DEADLINE_HELP = "write a time of day like \"08:00\" or a 5-field cron like \"0 8 * * 1-5\""


def _invalid(message: str) -> PydanticCustomError:
    """An error whose text is shown as is (a plain ValueError gets a 'Value error,' prefix)."""
    return PydanticCustomError("sla_config", message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EscalationStep(_Strict):
    """Notify once, ``after`` this long since the SLA slipped (became at risk or missed)."""

    after: Duration
    notify: NotifyAction

    @model_validator(mode="before")
    @classmethod
    def _both_keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        after = value.get("after")
        if isinstance(after, str) and "notify" in after:
            # `- after: 0m, notify log` is one string in YAML, not two keys.
            raise _invalid(
                f"after: {after!r} is one value, not two keys; write the step as a flow "
                "mapping: - {after: 0m, notify: log}")
        missing = [key for key in ("after", "notify") if key not in value]
        if missing:
            raise _invalid(
                f"an escalation step needs after: and notify: (missing {', '.join(missing)});"
                " write it like - {after: 30m, notify: log}")
        return value


class SlaConfig(_Strict):
    """One SLA: what it covers, when it is due, how old it may get, whom to tell."""

    select: str = Field(min_length=1)
    exclude: str | None = None
    deadline: str | None = None
    timezone: TimeZoneName = "UTC"
    max_staleness: Duration | None = None
    escalation: list[EscalationStep] = Field(default_factory=list)

    @field_validator("select")
    @classmethod
    def _selection_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise _invalid("an empty selection; name the models, e.g. \"fct_orders fct_customers\"")
        return value

    @field_validator("deadline", mode="before")
    @classmethod
    def _deadline_not_a_number(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 8:30 or 23:59 as a base-60 number (510, 1439).
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            hours, minutes = divmod(value, 60)
            raise _invalid(
                f"YAML read {hours}:{minutes:02d} as the number {value}; quote it: "
                f"deadline: \"{hours:02d}:{minutes:02d}\"")
        if not isinstance(value, str | None):
            raise _invalid(f"{value!r} is not a deadline; {_DEADLINE_HELP}")
        return value

    @field_validator("deadline")
    @classmethod
    def _deadline_is_a_time_or_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        match = _TIME_OF_DAY.match(text)
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour > 23 or minute > 59:
                raise _invalid(f"{value!r} is not a time of day (00:00 to 23:59); {_DEADLINE_HELP}")
            return f"{hour:02d}:{minute:02d}"
        if len(text.split()) == 5 and croniter.is_valid(text):
            return text
        raise _invalid(f"{value!r} is not a deadline; {_DEADLINE_HELP}")

    @model_validator(mode="after")
    def _promises_something(self) -> SlaConfig:
        if self.deadline is None and self.max_staleness is None:
            raise _invalid("an SLA needs a deadline, a max_staleness or both")
        return self

    @property
    def cron(self) -> str | None:
        """The deadline as a cron expression (``"08:00"`` is ``"0 8 * * *"``)."""
        if self.deadline is None:
            return None
        match = _TIME_OF_DAY.match(self.deadline)
        if match:
            return f"{int(match.group(2))} {int(match.group(1))} * * *"
        return self.deadline

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
