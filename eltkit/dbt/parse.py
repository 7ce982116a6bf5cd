"""Run ``dbt parse`` in this process through dbt-core's public ``dbtRunner``.

dbt keeps its partial-parse cache in target/, so a parse after a small edit
is quick. dbt's own console output is silenced: the caller decides what to
show, and a parse error becomes one DbtParseError line with dbt's message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eltkit.dbt.manifest import ParseInputs
from eltkit.errors import DbtParseError


def dbt_args(inputs: ParseInputs, command: str) -> list[str]:
    """Arguments every dbt invocation of this project shares."""
    args = [command, "--project-dir", str(inputs.project_dir),
            "--target-path", str(inputs.target_path)]
    if inputs.profiles_dir is not None:
        args += ["--profiles-dir", str(inputs.profiles_dir)]
    if inputs.target:
        args += ["--target", inputs.target]
    if inputs.vars:
        args += ["--vars", json.dumps(inputs.vars, default=str)]
    return args


def parse_project(inputs: ParseInputs) -> Any:
    """Write target/manifest.json and return dbt's parsed Manifest (dev mode hands it
    back to dbt to skip a second parse); raise DbtParseError with dbt's reason."""
    from dbt.cli.main import dbtRunner

    errors: list[str] = []

    def collect(event: Any) -> None:
        # Runs on dbt's thread: never raise, do nothing slow.
        try:
            if event.info.level == "error":
                errors.append(event.info.msg)
        except Exception:  # noqa: BLE001, S110 - a callback must never raise into dbt
            pass

    args = [*dbt_args(inputs, "parse"), "--log-level", "none", "--no-use-colors"]
    result = dbtRunner(callbacks=[collect]).invoke(args)
    if result.success:
        return result.result
    reason = str(result.exception) if result.exception is not None else ""
    if not reason.strip():
        reason = errors[-1] if errors else "dbt parse failed without a message"
    raise DbtParseError(f"dbt could not parse {inputs.project_dir}: {one_line(reason)}")


def one_line(message: str) -> str:
    """dbt's multi-line errors folded into one line, the file kept first."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", message)
    return re.sub(r"\s+", " ", text).strip()
