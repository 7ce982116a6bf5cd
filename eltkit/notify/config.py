"""The notification actions a job or an SLA may declare in eltkit.yml.

Three actions, one shape everywhere (``on_failure``, ``on_success``, SLA
escalation steps)::

    notify: log
    notify: {webhook: {url_env: ELTKIT_ALERT_WEBHOOK}}
    notify: {command: "./page-oncall.sh"}

A webhook's URL comes from an environment variable, never from the file: the
URL is a secret (Slack and Teams URLs carry their token), so it is never
written to the history, the logs or an error message.
"""

from __future__ import annotations

import os
import shlex
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from eltkit.config_types import Duration, invalid


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogAction(_Strict):
    """Write the event to eltkit's log (stderr of the scheduler) and the history."""

    kind: Literal["log"] = "log"
    level: Literal["info", "warning", "error"] = "warning"


class WebhookSettings(_Strict):
    url_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout: Duration = 10.0
    retries: int = Field(default=3, ge=0, le=20)
    backoff: Duration = 1.0


class WebhookAction(_Strict):
    """POST the event as JSON to the URL held by ``url_env``; retried with backoff."""

    kind: Literal["webhook"] = "webhook"
    webhook: WebhookSettings

    def missing_secret(self) -> str | None:
        """The env var's name when it is unset, so a config check can fail early."""
        return None if os.environ.get(self.webhook.url_env) else self.webhook.url_env


class CommandAction(_Strict):
    """Run a command (no shell) with the event as JSON on stdin."""

    kind: Literal["command"] = "command"
    command: str = Field(min_length=1)
    timeout: Duration = 60.0

    @field_validator("command")
    @classmethod
    def _splits_like_a_shell_line(cls, value: str) -> str:
        """Reject at load time what would only fail when the alert fires."""
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise invalid(
                f"cannot split {value!r} into words ({exc}); check the quotes") from exc
        if not words:
            raise invalid("the command is blank; give a program to run, e.g. ./notify.sh")
        return value


def _tag_action(value: Any) -> Any:
    """Accept the short spellings (``log``, ``{webhook: ...}``) and tag them for the union."""
    if value == "log":
        return {"kind": "log"}
    if isinstance(value, dict) and "kind" not in value:
        keys = set(value)
        if keys & {"webhook"}:
            return {"kind": "webhook", **value}
        if keys & {"command"}:
            return {"kind": "command", **value}
        if keys & {"log"}:
            inner = value["log"]
            return {"kind": "log", **(inner if isinstance(inner, dict) else {})}
        raise invalid(
            f"unknown notification {sorted(keys)}; use log, {{webhook: {{url_env: NAME}}}} "
            "or {command: \"./script\"}"
        )
    if isinstance(value, str):
        raise invalid(
            f"unknown notification {value!r}; use log, {{webhook: {{url_env: NAME}}}} "
            "or {command: \"./script\"}"
        )
    return value


NotifyAction = Annotated[
    LogAction | WebhookAction | CommandAction,
    Field(discriminator="kind"),
    BeforeValidator(_tag_action),
]
"""One notification action as declared in eltkit.yml."""


def as_action_list(value: Any) -> Any:
    """``on_failure: log`` and ``on_failure: [log, {webhook: ...}]`` both mean a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


NotifyActions = Annotated[list[NotifyAction], BeforeValidator(as_action_list)]
