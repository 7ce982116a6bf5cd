"""The plugin's settings: each one a command-line flag and an ini key, resolved here only.

pytest-postgresql's habit: a CI job sets a flag, a repo sets the ini key, and
nothing else in the plugin reads ``config.getoption`` or ``config.getini``, so
precedence (flag, then ini, then default) is decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GROUP = "eltkit"


@dataclass(frozen=True)
class _Option:
    name: str  # ini key; the flag is --name with dashes
    help: str
    kind: str  # "path", "string", "bool", "int"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS = (
    _Option("eltkit_project_dir", "folder of eltkit.yml or dbt_project.yml (default: found "
            "from the current folder, the test paths, then the rootdir)", "path"),
    _Option("eltkit_profiles_dir", "take DuckDB settings (extensions, settings, attach) from "
            "profiles.yml in this folder; the database file is always the plugin's own", "path"),
    _Option("eltkit_target", "the target of that profile to take settings from", "string"),
    _Option("eltkit_threads", "dbt threads for pipeline runs (default: eltkit.yml, else 4)",
            "int"),
    _Option("eltkit_keep_failed", "keep the DuckDB file, target/ and logs/ of failed tests "
            "and print where they are", "bool"),
    _Option("eltkit_keep_dir", "where --eltkit-keep-failed keeps them "
            "(default: .eltkit-pytest/failed under the rootdir)", "path"),
    _Option("eltkit_dbt_tests", "collect every dbt data test and unit test of the project "
            "as a pytest item", "bool"),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "eltkit pipeline tests")
    for option in OPTIONS:
        if option.kind == "bool":
            group.addoption(option.flag, action="store_true", default=None, dest=option.name,
                            help=option.help)
            parser.addini(option.name, option.help, type="bool", default=False)
        else:
            group.addoption(option.flag, action="store", default=None, dest=option.name,
                            help=option.help, type=int if option.kind == "int" else str)
            parser.addini(option.name, option.help, default=None)


@dataclass(frozen=True)
class Settings:
    """Every plugin setting after flag, ini key and default are resolved."""

    project_dir: Path | None
    profiles_dir: Path | None
    target: str | None
    threads: int | None
    keep_failed: bool
    keep_dir: Path
    dbt_tests: bool
    rootdir: Path
    invocation_dir: Path
    args: tuple[str, ...]
    #: "gw0", "gw1", ... under pytest-xdist, "main" otherwise.
    worker: str = "main"

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        values = {option.name: _resolve(config, option) for option in OPTIONS}
        rootdir = Path(config.rootpath)
        keep_dir = values["eltkit_keep_dir"] or rootdir / ".eltkit-pytest" / "failed"
        return cls(
            project_dir=values["eltkit_project_dir"],
            profiles_dir=values["eltkit_profiles_dir"],
            target=values["eltkit_target"],
            threads=values["eltkit_threads"],
            keep_failed=bool(values["eltkit_keep_failed"]),
            keep_dir=keep_dir,
            dbt_tests=bool(values["eltkit_dbt_tests"]),
            rootdir=rootdir,
            invocation_dir=Path(config.invocation_params.dir),
            args=tuple(str(arg) for arg in config.args),
            worker=str(getattr(config, "workerinput", {}).get("workerid", "main")),
        )


def _resolve(config: pytest.Config, option: _Option) -> Any:
    """Flag, else ini key, else the default; paths from a flag are relative to the
    folder pytest was started in, paths from the ini file to the rootdir."""
    flag = config.getoption(option.name, default=None)
    if flag is not None:
        if option.kind == "path":
            return (Path(config.invocation_params.dir) / flag).resolve()
        return flag
    ini = config.getini(option.name)
    if option.kind == "bool":
        return bool(ini)
    if ini in (None, "", []):
        return None
    if option.kind == "path":
        return (Path(config.rootpath) / str(ini)).resolve()
    if option.kind == "int":
        try:
            return int(str(ini))
        except ValueError:
            raise pytest.UsageError(
                f"ini key {option.name} = {ini!r}: not a whole number; set it like "
                f"{option.name} = 4") from None
    return str(ini)
