"""Value types shared by the sections of eltkit.yml (jobs, SLAs, freshness).

A duration is written as people write it in a config file: ``90s``, ``30m``,
``26h``, ``2d`` or a bare number of seconds. Parsing it here, once, keeps the
error message the same wherever a duration is accepted.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def invalid(message: str) -> PydanticCustomError:
    """A config error shown as written (a plain ValueError gets a 'Value error,' prefix)."""
    return PydanticCustomError("eltkit_config", message)


def parse_duration(value: Any) -> float:
    """Seconds in ``value`` (``"30m"``, ``"26h"``, ``45``); the error says what is accepted."""
    if isinstance(value, bool):
        raise invalid("a duration like 30s, 15m, 26h or 2d, not a boolean")
    if isinstance(value, int | float):
        if value < 0:
            raise invalid("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    raise invalid(f"{value!r} is not a duration; write it like 30s, 15m, 26h or 2d")


def known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"unknown timezone {value!r}; use an IANA name such as UTC, "
                      "Europe/Paris or America/New_York") from None
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in eltkit.yml as ``30s`` / ``15m`` / ``26h`` / ``2d`` / a number."""

TimeZoneName = Annotated[str, AfterValidator(known_timezone)]
"""An IANA timezone name (``UTC``, ``Europe/Paris``), checked when eltkit.yml is loaded."""
