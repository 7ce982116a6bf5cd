"""Options and error handling shared by every eltkit command."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from eltkit.errors import EltkitError

F = TypeVar("F", bound=Callable[..., Any])


class GreedyOption(click.Option):
    """An option that takes every word up to the next option: ``-s a b --exclude c``.

    dbt users type selections that way, so eltkit's flags accept it too. Click
    has no such option kind; the option's parser step is wrapped to swallow the
    following words before handing the value on.
    """

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for opt in self.opts:
            parser_option = parser._long_opt.get(opt) or parser._short_opt.get(opt)
            if parser_option is None:
                continue
            original = parser_option.process
            prefixes = parser_option.prefixes

            def process(value: str, state: Any, _original: Any = original,
                        _prefixes: Any = prefixes) -> None:
                words = [value]
                while state.rargs and not any(
                    state.rargs[0].startswith(prefix) for prefix in _prefixes
                ):
                    words.append(state.rargs.pop(0))
                _original(" ".join(words), state)

            parser_option.process = process


def apply_options(command: F, decorators: list[Callable[[Any], Any]]) -> F:
    """Apply click option decorators in the order they are listed (as --help shows them)."""
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def project_options(command: F) -> F:
    """--project/--target/--profiles-dir/--vars, as dbt users type them."""
    decorators = [
        click.option("--project", "project_dir", type=click.Path(path_type=Path),
                     help="Folder of eltkit.yml or dbt_project.yml (default: search upwards)."),
        click.option("--target", "-t", default=None, help="dbt target (default: the profile's)."),
        click.option("--profiles-dir", type=click.Path(path_type=Path), default=None,
                     help="Folder of profiles.yml (default: as dbt finds it)."),
        click.option("--vars", "vars_json", default=None,
                     help="dbt vars as a YAML or JSON mapping, e.g. '{\"day\": \"2026-11-01\"}'."),
    ]
    return apply_options(command, decorators)


def selection_options(command: F) -> F:
    """dbt's selection flags: -s/--select, --exclude, --selector, --state, ..."""
    decorators = [
        click.option("--select", "-s", "select", multiple=True, cls=GreedyOption,
                     help="Nodes to select, dbt syntax (several words = union)."),
        click.option("--models", "-m", "models", multiple=True, hidden=True, cls=GreedyOption),
        click.option("--exclude", multiple=True, cls=GreedyOption,
                     help="Nodes to leave out, dbt syntax."),
        click.option("--selector", default=None, help="A named selector from selectors.yml."),
        click.option("--state", type=click.Path(path_type=Path), default=None,
                     help="Folder with an earlier manifest.json, for state: selection."),
        click.option("--indirect-selection", default="eager",
                     type=click.Choice(["eager", "cautious", "buildable", "empty"]),
                     help="How tests come along with the nodes they test."),
    ]
    return apply_options(command, decorators)


def parse_vars(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    import yaml

    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"not YAML or JSON: {exc}", param_hint="--vars") from exc
    if not isinstance(value, dict):
        raise click.BadParameter("must be a mapping such as '{\"day\": \"2026-11-01\"}'",
                                 param_hint="--vars")
    return value


def handle_errors(command: F) -> F:
    """Turn EltkitError into one line on stderr and its exit code (traceback with --debug)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return command(*args, **kwargs)
        except EltkitError as exc:
            if debug:
                raise
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # `eltkit history | head`: the reader has gone; nothing left to say.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:
            if debug:
                raise
            click.echo(
                f"error: internal error: {type(exc).__name__}: {exc} "
                "(rerun with --debug for the traceback and report it)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, default=str))
