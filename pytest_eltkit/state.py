"""The plugin's per-process state: settings, the prepared project, failures, kept files.

Kept in ``config.stash`` rather than in module globals, so a pytester run inside
a test session gets its own state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from eltkit.errors import EltkitError
from pytest_eltkit.options import Settings
from pytest_eltkit.session import PipelineSession

KEPT_PROPERTY = "eltkit_kept"


@dataclass
class PluginState:
    settings: Settings
    session: PipelineSession | None = None
    #: Node ids of tests that failed in any phase (to decide what to keep).
    failed: set[str] = field(default_factory=set)
    #: Kept folders not yet attached to a report (a fixture finalizer ran).
    kept_pending: list[Path] = field(default_factory=list)
    #: (node id, folder) of every kept test, as the controller saw the reports.
    kept: list[tuple[str, str]] = field(default_factory=list)


STATE = pytest.StashKey[PluginState]()


def state_of(config: pytest.Config) -> PluginState:
    return config.stash[STATE]


def session_for(config: pytest.Config) -> PipelineSession:
    """The worker's prepared project, prepared on first use.

    A project that cannot be prepared (it does not parse, a seed fails, no
    project is found) stops the whole session with one line, instead of one
    identical error per test.
    """
    state = state_of(config)
    if state.session is None:
        cache = getattr(config, "cache", None)
        cache_root = cache.mkdir("eltkit") if cache is not None else None
        try:
            state.session = PipelineSession.prepare(state.settings, cache_root)
        except EltkitError as exc:
            pytest.exit(f"eltkit: {exc.message}", returncode=pytest.ExitCode.USAGE_ERROR)
    return state.session
