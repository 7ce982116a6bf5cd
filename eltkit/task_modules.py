"""Import the task modules named in eltkit.yml and collect their tasks."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from eltkit.errors import ConfigError
from eltkit.tasks import TASK_ATTRIBUTE, TaskSpec


def load_tasks(module_refs: list[str], root: Path, config_file: Path) -> list[TaskSpec]:
    """Import each module (a path like ``tasks/extract.py`` or a dotted name).

    The project root goes on ``sys.path`` first, so task modules can import
    helpers that live beside them, as they would in the user's own scripts.
    """
    root_str = str(root)
    if root_str not in sys.path:
        sys.path.insert(0, root_str)
    tasks: dict[str, TaskSpec] = {}
    for ref in module_refs:
        module = _import(ref, root, config_file)
        for spec in _tasks_in(module):
            previous = tasks.get(spec.name)
            if previous is not None and previous.function is not spec.function:
                raise ConfigError(
                    f"{config_file}: task {spec.name!r} is defined twice "
                    f"({previous.function.__module__} and {spec.function.__module__}); "
                    "give one a different name with @task(name=...)"
                )
            tasks[spec.name] = spec
    return list(tasks.values())


def module_file(spec: TaskSpec) -> str | None:
    """The file a task is defined in, for ``path:``/``file:`` selection."""
    module = sys.modules.get(spec.function.__module__)
    return getattr(module, "__file__", None)


def _tasks_in(module: ModuleType) -> list[TaskSpec]:
    found = []
    for value in vars(module).values():
        spec = getattr(value, TASK_ATTRIBUTE, None)
        if isinstance(spec, TaskSpec) and spec.function.__module__ == module.__name__:
            found.append(spec)
    return found


def _import(ref: str, root: Path, config_file: Path) -> ModuleType:
    is_path = ref.endswith(".py") or "/" in ref
    try:
        if is_path:
            path = (root / ref).resolve()
            if not path.is_file():
                raise ConfigError(
                    f"{config_file}: tasks: {ref}: no such file under {root}; "
                    "list task modules relative to the folder of eltkit.yml"
                )
            name = "eltkit_tasks." + "_".join(path.relative_to(root).with_suffix("").parts)
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ConfigError(f"{config_file}: tasks: {ref}: not an importable module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            return module
        return importlib.import_module(ref)
    except ConfigError:
        raise
    except ModuleNotFoundError as exc:
        if not is_path and exc.name == ref:
            raise ConfigError(
                f"{config_file}: tasks: {ref}: no such module; use a dotted module name "
                "importable from the project folder, or a path like tasks/extract.py"
            ) from exc
        raise ConfigError(_import_failure(ref, exc)) from exc
    except Exception as exc:
        raise ConfigError(_import_failure(ref, exc)) from exc


_ELTKIT_PACKAGE = Path(__file__).resolve().parent


def _in_eltkit(filename: str) -> bool:
    return Path(filename).resolve().is_relative_to(_ELTKIT_PACKAGE)


def _import_failure(ref: str, exc: BaseException) -> str:
    """Name the user's line: the innermost frame outside importlib and eltkit itself
    (a bad ``@task(...)`` raises inside eltkit/tasks.py, but the mistake is the caller's)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = next(
        (f"{frame.filename}:{frame.lineno}" for frame in reversed(frames)
         if "importlib" not in frame.filename and not _in_eltkit(frame.filename)),
        ref,
    )
    return f"{where}: importing task module {ref} failed: {type(exc).__name__}: {exc}"
