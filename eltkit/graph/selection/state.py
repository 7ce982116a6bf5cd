"""``state:`` and ``result:`` selection against an earlier manifest (``--state``).

The comparison is made on the manifests' JSON: checksums for bodies,
unrendered configs for configs, descriptions when docs are persisted, and the
macro bodies a node depends on, as dbt's state:modified sub-selectors do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eltkit.errors import SelectionError
from eltkit.graph.nodes import Node

_SECTIONS = ("nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries",
             "unit_tests", "functions")
_STATE_CHOICES = (
    "new", "old", "modified", "unmodified", "modified.body", "modified.configs",
    "modified.persisted_descriptions", "modified.relation", "modified.macros",
    "modified.contract",
)


class PreviousState:
    """An earlier manifest (and run results) to compare the current project with."""

    def __init__(self, old_manifest: dict[str, Any], new_manifest: dict[str, Any],
                 results: list[dict[str, Any]] | None = None) -> None:
        self.old: dict[str, dict[str, Any]] = {}
        for section in _SECTIONS:
            self.old.update(old_manifest.get(section) or {})
        self.old_macros: dict[str, Any] = old_manifest.get("macros") or {}
        self.new_macros: dict[str, Any] = new_manifest.get("macros") or {}
        self.results = results
        self._modified_macros: set[str] | None = None

    @classmethod
    def load(cls, state_dir: Path, new_manifest: dict[str, Any]) -> PreviousState:
        manifest_path = state_dir / "manifest.json"
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SelectionError(
                f"{manifest_path}: no manifest.json in the --state folder; point --state at "
                "the target/ folder of an earlier run"
            ) from exc
        except (OSError, ValueError) as exc:
            raise SelectionError(f"{manifest_path}: not a readable manifest: {exc}") from exc
        results = None
        results_path = state_dir / "run_results.json"
        if results_path.exists():
            try:
                results = json.loads(results_path.read_text(encoding="utf-8")).get("results")
            except (OSError, ValueError) as exc:
                raise SelectionError(f"{results_path}: not readable run results: {exc}") from exc
        return cls(old, new_manifest, results)

    def results_with_status(self, status: str) -> set[str]:
        if self.results is None:
            raise SelectionError(
                "result: selection needs run_results.json in the --state folder"
            )
        return {r["unique_id"] for r in self.results if r.get("status") == status}

    def checker(self, value: str) -> Callable[[Node], bool]:
        checks: dict[str, Callable[[Node], bool]] = {
            "new": lambda node: self._old(node) is None,
            "old": lambda node: self._old(node) is not None,
            "modified": self._modified,
            "unmodified": lambda node: not self._modified(node),
            "modified.body": lambda node: self._differs(node, self._body),
            "modified.configs": lambda node: self._differs(node, self._configs),
            "modified.persisted_descriptions": lambda node: self._differs(
                node, self._descriptions
            ),
            "modified.relation": lambda node: self._differs(node, self._relation),
            "modified.macros": self._macros_changed,
            "modified.contract": lambda node: self._differs(node, self._contract),
        }
        if value not in checks:
            raise SelectionError(
                f"invalid state selector {value!r}; expected one of: {', '.join(_STATE_CHOICES)}"
            )
        return checks[value]

    def _old(self, node: Node) -> dict[str, Any] | None:
        return self.old.get(node.unique_id)

    def _differs(self, node: Node, key: Callable[[dict[str, Any]], Any]) -> bool:
        old = self._old(node)
        if node.raw is None:
            return False
        return old is None or key(old) != key(node.raw)

    def _modified(self, node: Node) -> bool:
        if node.raw is None:
            return False
        old = self._old(node)
        if old is None:
            return True
        return any(
            key(old) != key(node.raw)
            for key in (self._body, self._configs, self._descriptions, self._relation,
                        self._contract)
        ) or self._macros_changed(node)

    @staticmethod
    def _body(entry: dict[str, Any]) -> Any:
        checksum = entry.get("checksum")
        if checksum is not None:
            return checksum
        # sources, exposures, unit tests: their whole definition is their body
        return {k: v for k, v in entry.items()
                if k not in ("created_at", "config_call_dict", "unrendered_config_call_dict")}

    @staticmethod
    def _configs(entry: dict[str, Any]) -> Any:
        return entry.get("unrendered_config", entry.get("config"))

    @staticmethod
    def _descriptions(entry: dict[str, Any]) -> Any:
        persist = (entry.get("config") or {}).get("persist_docs") or {}
        relation = entry.get("description") if persist.get("relation") else None
        columns = (
            {name: col.get("description") for name, col in (entry.get("columns") or {}).items()}
            if persist.get("columns") else None
        )
        return relation, columns

    @staticmethod
    def _relation(entry: dict[str, Any]) -> Any:
        return entry.get("database"), entry.get("schema"), entry.get("alias")

    @staticmethod
    def _contract(entry: dict[str, Any]) -> Any:
        contract = entry.get("contract") or {}
        if not contract.get("enforced"):
            return None
        return contract.get("checksum")

    def _macros_changed(self, node: Node) -> bool:
        if node.raw is None:
            return False
        if self._modified_macros is None:
            changed = {
                uid for uid, macro in self.new_macros.items()
                if uid not in self.old_macros
                or macro.get("macro_sql") != self.old_macros[uid].get("macro_sql")
            }
            changed |= set(self.old_macros) - set(self.new_macros)
            self._modified_macros = changed
        if not self._modified_macros:
            return False
        seen: set[str] = set()
        pending = list((node.raw.get("depends_on") or {}).get("macros") or [])
        while pending:
            uid = pending.pop()
            if uid in seen:
                continue
            seen.add(uid)
            if uid in self._modified_macros:
                return True
            macro = self.new_macros.get(uid) or {}
            pending.extend((macro.get("depends_on") or {}).get("macros") or [])
        return False
