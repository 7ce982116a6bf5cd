"""One node of the unified DAG: a dbt resource or a Python task.

Only the fields selection and execution need are copied out of the manifest;
the rest stays reachable through ``raw`` without copying, which keeps building
a 5,000-model graph close to the cost of reading its JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TASK = "task"
TEST = "test"
UNIT_TEST = "unit_test"
SOURCE = "source"
MODEL = "model"
SEED = "seed"
SNAPSHOT = "snapshot"
EXPOSURE = "exposure"
ANALYSIS = "analysis"
OPERATION = "operation"

TEST_TYPES = frozenset({TEST, UNIT_TEST})
#: Resource types whose execution produces a relation in the warehouse.
BUILDABLE_TYPES = frozenset({MODEL, SEED, SNAPSHOT})


@dataclass(slots=True, eq=False)
class Node:
    unique_id: str
    resource_type: str
    name: str
    package_name: str
    fqn: tuple[str, ...]
    original_file_path: str
    depends_on: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    patch_path: str | None = None
    source_name: str | None = None
    test_name: str | None = None
    test_kind: str | None = None  # generic | singular | unit
    version: str | None = None
    latest_version: str | None = None
    access: str | None = None
    raw: dict[str, Any] | None = None

    @property
    def is_versioned(self) -> bool:
        return self.version is not None

    @property
    def search_name(self) -> str:
        """The name dbt ls prints for this node."""
        if self.resource_type == SOURCE:
            return f"{self.source_name}.{self.name}"
        if self.version is not None:
            return f"{self.name}.v{self.version}"
        return self.name

    @property
    def selector(self) -> str:
        """The selector dbt ls prints for this node (``--output selector``)."""
        if self.resource_type == SOURCE:
            return f"source:{self.package_name}.{self.source_name}.{self.name}"
        if self.resource_type == EXPOSURE:
            return f"exposure:{self.package_name}.{self.name}"
        if self.resource_type == UNIT_TEST:
            return f"unit_test:{self.package_name}.{self.name}"
        if self.resource_type == TASK:
            return f"task:{self.name}"
        if self.resource_type in ("metric", "saved_query", "semantic_model"):
            return f"{self.resource_type}:{self.package_name}.{self.name}"
        return ".".join(self.fqn)

    @property
    def materialized(self) -> str | None:
        value = self.config.get("materialized")
        return value if isinstance(value, str) else None

    @property
    def is_test(self) -> bool:
        return self.resource_type in TEST_TYPES

    def to_json(self) -> dict[str, Any]:
        """The keys `eltkit ls --json` prints, a superset of dbt ls's defaults."""
        data: dict[str, Any] = {
            "unique_id": self.unique_id,
            "resource_type": self.resource_type,
            "name": self.name,
            "package_name": self.package_name,
            "original_file_path": self.original_file_path,
            "tags": list(self.tags),
            "depends_on": list(self.depends_on),
            "fqn": list(self.fqn),
        }
        if self.source_name is not None:
            data["source_name"] = self.source_name
        if self.materialized is not None:
            data["materialized"] = self.materialized
        return data
