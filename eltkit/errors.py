"""The errors eltkit reports to a person, and the exit code each one means.

Every failure a user can cause (bad config, a malformed selector, a dbt parse
error, a cycle) is raised as an :class:`EltkitError` with a one-line message that
names the file or expression and the fix. The CLI prints that line and exits
with ``exit_code``; only ``--debug`` shows a traceback.
"""

from __future__ import annotations

USAGE_EXIT_CODE = 2
RUN_FAILED_EXIT_CODE = 1


class EltkitError(Exception):
    """A problem the user can fix; its message is the whole story."""

    exit_code: int = USAGE_EXIT_CODE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(EltkitError):
    """eltkit.yml (or selectors.yml, a task module) is malformed."""


class ProjectNotFoundError(EltkitError):
    """No eltkit.yml or dbt_project.yml where one was expected."""


class SelectionError(EltkitError):
    """A selection expression does not follow dbt's grammar."""


class GraphError(EltkitError):
    """The unified DAG is inconsistent: a cycle, or an edge to nothing."""


class DbtParseError(EltkitError):
    """dbt could not parse the project (the message is dbt's own)."""
