"""Generate synthetic dbt projects for benchmarks and conformance tests.

``generate_project(dest, n_models, seed=...)`` writes a complete dbt-duckdb
project whose graph looks like a real one: sources, a staging layer, several
intermediate layers split into group folders, marts split into domains, seeds,
a snapshot, an ephemeral and an incremental model, disabled models, tags at
folder and model level, generic, singular and unit tests, and an exposure.
Every model really runs on DuckDB with a handful of rows, so ``dbt build``
passes once the raw tables exist (``python load_raw.py`` or the eltkit tasks in
``tasks/extract.py``).

The output depends only on ``(n_models, seed, with_tasks)``: the same
arguments always give byte-identical files.

Command line::

    python -m benchmarks.synthetic DEST --models N [--seed S] [--no-tasks]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C emitter is several times faster on big projects
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]

__all__ = ["MIN_MODELS", "ProjectPlan", "generate_project", "plan_project"]

PROJECT_NAME = "synth"
SOURCE_NAME = "raw"
MIN_MODELS = 10
ROWS_PER_TABLE = 5
CATEGORIES = ("a", "b", "c")
TAG_VOCABULARY = (*(f"tag_{letter}" for letter in "abcdefghij"), "daily", "hourly")
DOMAINS = (
    "finance",
    "marketing",
    "sales",
    "product",
    "operations",
    "support",
    "logistics",
    "people",
)
TEAMS = ("analytics", "platform", "growth", "finance_data", "core")
MACRO_NAME = "scale_value"
SEED_CATEGORIES = "seed_categories"
COLUMNS = ("id", "value", "category", "updated_at")


# --------------------------------------------------------------------------- plan


@dataclass
class ModelPlan:
    """Everything needed to write one model's SQL and its properties entry."""

    name: str
    layer: int
    folder: str  # under models/, e.g. "intermediate/group_03"
    kind: str  # staging | transform | join | union
    refs: list[str] = field(default_factory=list)  # models, seeds or the snapshot
    source_table: str | None = None
    materialized: str | None = None  # per-model override of the folder default
    materialized_in_sql: bool = True
    tags: list[str] = field(default_factory=list)
    tags_in_sql: bool = True
    meta: dict[str, Any] | None = None
    enabled: bool = True
    disabled_in_sql: bool = True
    scale: int | None = None  # factor passed to the scale_value macro
    seed_join: bool = False  # join seed_categories on category
    column_tests: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def is_ephemeral(self) -> bool:
        return self.materialized == "ephemeral"

    @property
    def is_incremental(self) -> bool:
        return self.materialized == "incremental"


@dataclass
class ProjectPlan:
    """The whole project, decided before anything is written."""

    n_models: int
    seed: int
    with_tasks: bool
    depth: int
    source_tables: list[str]
    source_rows: dict[str, list[tuple[int, float, str]]]
    seeds: dict[str, str]  # name -> CSV text
    models: list[ModelPlan]
    snapshot_name: str
    snapshot_of: str
    intermediate_groups: list[str]
    domains: list[str]
    singular_tests: dict[str, str]  # file name -> SQL
    unit_tests: list[dict[str, Any]]
    exposure_refs: list[str]
    source_tests: int = 0
    seed_tests: int = 0

    @property
    def data_test_count(self) -> int:
        """Generic tests on enabled models, sources and seeds, plus singular tests."""
        on_models = sum(
            len(tests) for m in self.models if m.enabled for tests in m.column_tests.values()
        )
        return on_models + self.source_tests + self.seed_tests + len(self.singular_tests)

    def summary(self) -> dict[str, int]:
        enabled = [m for m in self.models if m.enabled]
        return {
            "models": len(self.models),
            "enabled_models": len(enabled),
            "disabled_models": len(self.models) - len(enabled),
            "layers": self.depth,
            "sources": len(self.source_tables),
            "seeds": len(self.seeds),
            "snapshots": 1,
            "data_tests": self.data_test_count,
            "singular_tests": len(self.singular_tests),
            "unit_tests": len(self.unit_tests),
            "exposures": 1,
            "extract_tasks": len(self.source_tables) if self.with_tasks else 0,
        }


def _split(total: int, parts: int) -> list[int]:
    """``total`` items over ``parts`` buckets, as equal as possible, larger first."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan_project(n_models: int, *, seed: int = 0, with_tasks: bool = True) -> ProjectPlan:
    """Decide every node of the project; deterministic for ``(n_models, seed)``."""
    if n_models < MIN_MODELS:
        raise ValueError(f"n_models must be at least {MIN_MODELS}, got {n_models}")
    rng = random.Random(seed)
    width = max(4, len(str(n_models)))

    # ---- sources and staging
    n_sources = max(3, n_models // 50)
    source_tables = [f"table_{i:03d}" for i in range(1, n_sources + 1)]
    source_rows = {
        table: [
            (i, float(rng.randint(1, 99)) + rng.choice((0.0, 0.25, 0.5)), CATEGORIES[(i + t) % 3])
            for i in range(1, ROWS_PER_TABLE + 1)
        ]
        for t, table in enumerate(source_tables)
    }
    n_staging = max(min(n_sources, n_models // 3), round(n_models * 0.1))
    rest = n_models - n_staging

    # ---- layers: 0 is staging, then intermediate layers, then two mart layers
    depth = min(10, max(6, round(math.log2(n_models))), rest + 1)
    n_mart_layers = 2 if depth >= 4 else 1
    n_int_layers = depth - 1 - n_mart_layers
    n_marts = max(n_mart_layers, round(rest * 0.3)) if n_int_layers else rest
    n_int = rest - n_marts
    int_sizes = _split(n_int, n_int_layers) if n_int_layers else []
    mart_sizes = _split(n_marts, n_mart_layers)
    n_groups = max(1, min(50, round(n_int / 25)))
    groups = [f"group_{g:02d}" for g in range(1, n_groups + 1)]
    n_domains = max(1, min(len(DOMAINS), n_marts // 8))
    domains = list(DOMAINS[:n_domains])

    models: list[ModelPlan] = []
    by_name: dict[str, ModelPlan] = {}
    layers: list[list[str]] = []
    counter = 0

    def add(model: ModelPlan) -> None:
        models.append(model)
        by_name[model.name] = model
        layers[model.layer].append(model.name)

    layers.append([])
    for i in range(n_staging):
        counter += 1
        add(
            ModelPlan(
                name=f"stg_{counter:0{width}d}",
                layer=0,
                folder="staging",
                kind="staging",
                source_table=source_tables[i % n_sources],
            )
        )

    def choose_refs(layer: int) -> list[str]:
        wanted = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
        refs = [rng.choice(layers[layer - 1])]
        for _ in range(8):
            if len(refs) >= wanted:
                break
            pool_layer = layer - 1 if rng.random() < 0.4 else rng.randrange(layer)
            candidate = rng.choice(layers[pool_layer])
            if candidate not in refs:
                refs.append(candidate)
        return refs

    def kind_for(refs: list[str]) -> str:
        if len(refs) == 1:
            return "transform"
        return "join" if rng.random() < 0.6 else "union"

    layer_sizes = [*int_sizes, *mart_sizes]
    for offset, size in enumerate(layer_sizes):
        layer = offset + 1
        is_mart = offset >= n_int_layers
        layers.append([])
        for _ in range(size):
            counter += 1
            refs = choose_refs(layer)
            if is_mart:
                domain = rng.choice(domains)
                prefix = "fct" if rng.random() < 0.6 else "dim"
                name = f"{prefix}_{domain}_{counter:0{width}d}"
                folder = f"marts/{domain}"
            else:
                group = rng.choice(groups)
                name = f"int_{counter:0{width}d}"
                folder = f"intermediate/{group}"
            add(ModelPlan(name=name, layer=layer, folder=folder, kind=kind_for(refs), refs=refs))

    children: dict[str, int] = {}
    for m in models:
        for r in m.refs:
            children[r] = children.get(r, 0) + 1

    int_models = [m for m in models if m.folder.startswith("intermediate/")]
    mart_models = [m for m in models if m.folder.startswith("marts/")]
    last_layer = [by_name[n] for n in layers[-1]]

    # ---- disabled: leaves of the last layer, so nothing refs them
    n_disabled = min(2, len(last_layer) - 1)
    for i, m in enumerate(rng.sample(last_layer, n_disabled) if n_disabled > 0 else []):
        m.enabled = False
        m.disabled_in_sql = i == 0

    # ---- one ephemeral intermediate model that something refs
    ephemeral_pool = [m for m in int_models if children.get(m.name)] or [
        m for m in models if m.layer > 0 and m.enabled and children.get(m.name)
    ]
    ephemeral = rng.choice(ephemeral_pool)
    ephemeral.materialized = "ephemeral"
    ephemeral.materialized_in_sql = True

    # ---- one incremental mart, preferably one that later marts build on
    incremental_pool = [
        m for m in mart_models if m.enabled and not m.is_ephemeral and m.layer == depth - 2
    ] or [m for m in models if m.layer > 0 and m.enabled and not m.is_ephemeral]
    incremental = rng.choice(incremental_pool)
    incremental.materialized = "incremental"
    incremental.materialized_in_sql = True

    # ---- snapshot of the first staging model, read back by one mart (union)
    snapshot_of = models[0].name
    snapshot_name = f"snap_{snapshot_of}"
    snap_pool = [
        m for m in mart_models if m.enabled and not m.is_incremental and not m.is_ephemeral
    ]
    snap_reader = rng.choice([m for m in snap_pool if m.kind == "union"] or snap_pool)
    snap_reader.kind = "union"
    snap_reader.refs.append(snapshot_name)

    # ---- seeds: seed_categories (joined on category) and 1-4 lookup seeds (unioned)
    n_seeds = rng.randint(2, 5)
    seeds: dict[str, str] = {
        SEED_CATEGORIES: "category,label,sort_order\na,Alpha,1\nb,Beta,2\nc,Gamma,3\n"
    }
    lookup_seeds = [f"seed_lookup_{k:02d}" for k in range(1, n_seeds)]
    for k, seed_name in enumerate(lookup_seeds, start=1):
        lines = ["id,value,category,updated_at"]
        for i in range(1, ROWS_PER_TABLE + 1):
            category = CATEGORIES[(i + k) % 3]
            lines.append(f"{i},{i * k * 1.5:.2f},{category},2024-01-{i:02d} 00:00:00")
        seeds[seed_name] = "\n".join(lines) + "\n"

    plain = [
        m
        for m in models
        if m.layer > 0 and m.enabled and not m.is_incremental and m is not snap_reader
    ]
    for m in plain:
        if m.kind == "join" and rng.random() < 0.08:
            m.seed_join = True
        elif m.kind == "union" and lookup_seeds and rng.random() < 0.05:
            m.refs.append(rng.choice(lookup_seeds))
    if not any(m.seed_join for m in models):
        forced = rng.choice([m for m in plain if m.kind == "join"] or plain)
        forced.kind = "join"  # a single-ref model joins the seed only
        forced.seed_join = True
    used_seeds = {r for m in models for r in m.refs}
    unions = [m for m in plain if m.kind == "union"] or [m for m in plain if not m.seed_join]
    for seed_name in lookup_seeds:
        if seed_name not in used_seeds:
            target = rng.choice(unions)
            target.kind = "union"
            target.refs.append(seed_name)

    # ---- materialization variety, tags, meta, macro use
    for m in models:
        if m.materialized is None:
            draw = rng.random()
            top_level = m.folder.split("/", 1)[0]
            if draw < {"staging": 0.05, "intermediate": 0.12}.get(top_level, 0.0):
                m.materialized = "table"
            elif top_level == "marts" and draw < 0.12:
                m.materialized = "view"
            m.materialized_in_sql = rng.random() < 0.5
        n_tags = rng.choices((0, 1, 2), weights=(30, 45, 25))[0]
        m.tags = sorted(rng.sample(TAG_VOCABULARY, n_tags))
        m.tags_in_sql = rng.random() < 0.5
        if rng.random() < 0.4:
            m.meta = {"owner": rng.choice(TEAMS), "tier": rng.randint(1, 3)}
            if m.folder.startswith("marts/"):
                m.meta["domain"] = m.folder.split("/", 1)[1]
        if rng.random() < 0.2:
            m.scale = rng.choice((2, 3, 10))

    # ---- generic data tests on columns
    testable = [m for m in models if m.enabled and not m.is_ephemeral]
    warn_given = False
    for m in testable:
        tests: dict[str, list[Any]] = {}
        if rng.random() < 0.3:
            tests["id"] = ["unique", "not_null"]
        if rng.random() < 0.1:
            tests["category"] = [{"accepted_values": {"arguments": {"values": list(CATEGORIES)}}}]
        if rng.random() < 0.06:
            test: Any = "non_negative"
            if not warn_given:
                test = {"non_negative": {"config": {"severity": "warn"}}}
                warn_given = True
            tests["value"] = [test]
        parent = by_name.get(m.refs[0]) if m.refs else None
        if (
            m.kind in ("join", "transform")
            and parent is not None
            and not parent.is_ephemeral
            and rng.random() < 0.05
        ):
            relationship = {
                "relationships": {"arguments": {"to": f"ref('{parent.name}')", "field": "id"}}
            }
            tests.setdefault("id", []).append(relationship)
        m.column_tests = tests
    _ensure_each_test_kind(rng, testable, by_name)

    # ---- singular tests on two models
    singular: dict[str, str] = {}
    first, second = rng.sample(testable, 2)
    singular[f"assert_{first.name}_ids_are_unique.sql"] = (
        f"-- every id appears once in {first.name}\n"
        f"select id, count(*) as n\nfrom {{{{ ref('{first.name}') }}}}\n"
        "group by id\nhaving count(*) > 1\n"
    )
    singular[f"assert_{second.name}_value_not_negative.sql"] = (
        f"-- {second.name}.value is a sum of non-negative amounts\n"
        f"select *\nfrom {{{{ ref('{second.name}') }}}}\nwhere value < 0\n"
    )

    # ---- 1 to 3 unit tests on models whose parents are all plain models
    candidates = [
        m
        for m in models
        if m.layer > 0
        and m.enabled
        and not m.is_ephemeral
        and not m.is_incremental
        and all(r in seeds or (r in by_name and not by_name[r].is_ephemeral) for r in m.refs)
    ]
    n_unit = min(len(candidates), rng.randint(1, 3))
    unit_tests = [_unit_test(m) for m in rng.sample(candidates, n_unit)]

    # ---- exposure on two enabled marts, preferring the last layers
    exposure_pool = [m.name for m in mart_models if m.enabled and not m.is_ephemeral]
    exposure_refs = sorted(rng.sample(exposure_pool, min(2, len(exposure_pool))))

    plan = ProjectPlan(
        n_models=n_models,
        seed=seed,
        with_tasks=with_tasks,
        depth=depth,
        source_tables=source_tables,
        source_rows=source_rows,
        seeds=seeds,
        models=models,
        snapshot_name=snapshot_name,
        snapshot_of=snapshot_of,
        intermediate_groups=sorted({m.folder.split("/")[1] for m in int_models}),
        domains=sorted({m.folder.split("/")[1] for m in mart_models}),
        singular_tests=singular,
        unit_tests=unit_tests,
        exposure_refs=exposure_refs,
    )
    plan.source_tests = len(source_tables) + 1  # not_null on every id, unique on the first
    plan.seed_tests = 2  # unique + not_null on seed_categories.category
    return plan


def _ensure_each_test_kind(
    rng: random.Random, testable: list[ModelPlan], by_name: dict[str, ModelPlan]
) -> None:
    """Small projects may draw no test of some kind; add one of each that is missing."""
    present = {
        (t if isinstance(t, str) else next(iter(t)))
        for m in testable
        for tests in m.column_tests.values()
        for t in tests
    }
    if "unique" not in present:
        rng.choice(testable).column_tests.setdefault("id", []).extend(["unique", "not_null"])
    if "accepted_values" not in present:
        rng.choice(testable).column_tests.setdefault("category", []).append(
            {"accepted_values": {"arguments": {"values": list(CATEGORIES)}}}
        )
    if "non_negative" not in present:
        rng.choice(testable).column_tests.setdefault("value", []).append(
            {"non_negative": {"config": {"severity": "warn"}}}
        )
    if "relationships" not in present:
        pool = [
            m
            for m in testable
            if m.kind in ("join", "transform")
            and m.refs[0] in by_name
            and not by_name[m.refs[0]].is_ephemeral
        ]
        if pool:
            m = rng.choice(pool)
            m.column_tests.setdefault("id", []).append(
                {"relationships": {"arguments": {"to": f"ref('{m.refs[0]}')", "field": "id"}}}
            )


def _unit_test(m: ModelPlan) -> dict[str, Any]:
    """A unit test whose expected rows are computed from the same recipe as the SQL."""
    given_rows: list[list[dict[str, Any]]] = []
    for j, _parent in enumerate(m.refs):
        ids = (1, 2, 3) if j == 0 else ((1, 2) if j % 2 else (2, 3))
        given_rows.append(
            [
                {
                    "id": i,
                    "value": float(10 * j + i),
                    "category": CATEGORIES[(i + j) % 3],
                    "updated_at": f"2024-01-0{i} 00:00:00",
                }
                for i in ids
            ]
        )
    given = [
        {"input": f"ref('{parent}')", "rows": rows}
        for parent, rows in zip(m.refs, given_rows, strict=True)
    ]
    sort_order = {category: k for k, category in enumerate(CATEGORIES, start=1)}
    if m.seed_join:
        given.append(
            {
                "input": f"ref('{SEED_CATEGORIES}')",
                "rows": [{"category": c, "sort_order": k} for c, k in sort_order.items()],
            }
        )
    expected: dict[int, float] = {}
    if m.kind == "transform":
        expected = {r["id"]: r["value"] + 1 for r in given_rows[0]}
    elif m.kind == "join":
        expected = {r["id"]: r["value"] for r in given_rows[0]}
        for rows in given_rows[1:]:
            for r in rows:
                if r["id"] in expected:
                    expected[r["id"]] += r["value"]
        if m.seed_join:
            for r in given_rows[0]:
                expected[r["id"]] += sort_order[r["category"]]
    else:  # union
        for rows in given_rows:
            for r in rows:
                expected[r["id"]] = expected.get(r["id"], 0.0) + r["value"]
    if m.scale:
        expected = {k: round(v * m.scale, 4) for k, v in expected.items()}
    return {
        "name": f"test_{m.name}_{m.kind}",
        "description": f"{m.name} ({m.kind} of {len(m.refs)} parent(s)) computes value per id",
        "model": m.name,
        "given": given,
        "expect": {"rows": [{"id": k, "value": v} for k, v in sorted(expected.items())]},
    }


# --------------------------------------------------------------------------- render


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def _model_sql(m: ModelPlan, snapshot_name: str) -> str:
    config: list[str] = []
    if m.materialized and m.materialized_in_sql:
        config.append(f"materialized='{m.materialized}'")
    if m.is_incremental:
        config.append("unique_key='id'")
    if m.tags and m.tags_in_sql:
        config.append(f"tags={m.tags!r}")
    if not m.enabled and m.disabled_in_sql:
        config.append("enabled=false")
    header = f"{{{{ config({', '.join(config)}) }}}}\n\n" if config else ""

    def scaled(expression: str) -> str:
        if m.scale:
            return f"{{{{ {MACRO_NAME}('{expression}', {m.scale}) }}}}"
        return expression

    if m.kind == "staging":
        body = (
            "with source as (\n"
            f"    select * from {{{{ source('{SOURCE_NAME}', '{m.source_table}') }}}}\n"
            ")\n\n"
            "select\n"
            "    cast(id as integer) as id,\n"
            f"    {scaled('cast(amount as double)')} as value,\n"
            "    cast(category as varchar) as category,\n"
            "    cast(_loaded_at as timestamp) as updated_at\n"
            "from source\n"
        )
    elif m.kind == "transform":
        body = (
            "select\n"
            "    id,\n"
            f"    {scaled('value + 1')} as value,\n"
            "    category,\n"
            "    updated_at\n"
            f"from {{{{ ref('{m.refs[0]}') }}}}\n"
        )
    elif m.kind == "join":
        terms = ["r1.value"] + [f"coalesce(r{j}.value, 0)" for j in range(2, len(m.refs) + 1)]
        if m.seed_join:
            terms.append("coalesce(cat.sort_order, 0)")
        lines = [
            "select",
            "    r1.id,",
            f"    {scaled(' + '.join(terms))} as value,",
            "    r1.category,",
            "    r1.updated_at",
            f"from {{{{ ref('{m.refs[0]}') }}}} as r1",
        ]
        for j, parent in enumerate(m.refs[1:], start=2):
            lines.append(f"left join {{{{ ref('{parent}') }}}} as r{j} on r1.id = r{j}.id")
        if m.seed_join:
            lines.append(
                f"left join {{{{ ref('{SEED_CATEGORIES}') }}}} as cat on r1.category = cat.category"
            )
        body = "\n".join(lines) + "\n"
    else:  # union
        selects = []
        for parent in m.refs:
            select = f"    select id, value, category, updated_at from {{{{ ref('{parent}') }}}}"
            if parent == snapshot_name:
                select += " where dbt_valid_to is null"
            selects.append(select)
        body = (
            "with unioned as (\n" + "\n    union all\n".join(selects) + "\n)\n\n"
            "select\n"
            "    id,\n"
            f"    {scaled('sum(value)')} as value,\n"
            "    min(category) as category,\n"
            "    max(updated_at) as updated_at\n"
            "from unioned\n"
            "group by id\n"
        )
    if m.is_incremental:
        indented = "".join(f"    {line}\n" if line else "\n" for line in body.splitlines())
        body = (
            f"with batch as (\n{indented})\n\n"
            "select * from batch\n"
            "{% if is_incremental() %}\n"
            "where updated_at >= (select coalesce(max(updated_at), '1900-01-01') from {{ this }})\n"
            "{% endif %}\n"
        )
    return header + body


def _model_properties(m: ModelPlan) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": m.name}
    if m.kind == "staging":
        entry["description"] = f"Staged rows of {SOURCE_NAME}.{m.source_table}."
    else:
        entry["description"] = f"{m.kind.capitalize()} of {', '.join(m.refs)}."
    config: dict[str, Any] = {}
    if m.materialized and not m.materialized_in_sql:
        config["materialized"] = m.materialized
    if m.tags and not m.tags_in_sql:
        config["tags"] = m.tags
    if m.meta:
        config["meta"] = m.meta
    if not m.enabled and not m.disabled_in_sql:
        config["enabled"] = False
    if config:
        entry["config"] = config
    if m.column_tests:
        entry["columns"] = [
            {"name": column, "data_tests": tests} for column, tests in m.column_tests.items()
        ]
    return entry


def _dbt_project_yml(plan: ProjectPlan) -> str:
    marts: dict[str, Any] = {"+materialized": "table", "+tags": ["marts"]}
    for domain in plan.domains:
        marts[domain] = {"+tags": [domain], "+meta": {"domain": domain}}
    data = {
        "name": PROJECT_NAME,
        "version": "1.0.0",
        "profile": PROJECT_NAME,
        "model-paths": ["models"],
        "seed-paths": ["seeds"],
        "snapshot-paths": ["snapshots"],
        "test-paths": ["tests"],
        "macro-paths": ["macros"],
        "clean-targets": ["target", "dbt_packages"],
        "flags": {"send_anonymous_usage_stats": False},
        "models": {
            PROJECT_NAME: {
                "staging": {"+materialized": "view", "+tags": ["staging"]},
                "intermediate": {"+materialized": "view"},
                "marts": marts,
            }
        },
        "seeds": {PROJECT_NAME: {"+tags": ["seed"]}},
    }
    return "# Generated by benchmarks/synthetic.py; do not edit.\n" + _dump(data)


def _profiles_yml() -> str:
    # Written by hand, not by yaml.dump: the Jinja is kept in double quotes, the
    # way people write it, instead of PyYAML's ''-escaped single quotes.
    return f"""\
{PROJECT_NAME}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{{{ env_var('SYNTH_DUCKDB_PATH', 'target/synth.duckdb') }}}}"
      threads: 4
"""


def _sources_yml(plan: ProjectPlan) -> str:
    tables = []
    for i, table in enumerate(plan.source_tables):
        tests: list[Any] = ["not_null"] if i else ["unique", "not_null"]
        tables.append(
            {
                "name": table,
                "description": f"Raw rows loaded by extract_{table}.",
                "config": {
                    "loaded_at_field": "_loaded_at",
                    "freshness": {
                        "warn_after": {"count": 12, "period": "hour"},
                        "error_after": {"count": 24, "period": "hour"},
                    },
                },
                "columns": [{"name": "id", "data_tests": tests}],
            }
        )
    data = {
        "sources": [
            {
                "name": SOURCE_NAME,
                "schema": SOURCE_NAME,
                "description": "Raw tables written by the extract tasks (or load_raw.py).",
                "tables": tables,
            }
        ]
    }
    return _dump(data)


def _seeds_yml(plan: ProjectPlan) -> str:
    entries: list[dict[str, Any]] = [
        {
            "name": SEED_CATEGORIES,
            "description": "Labels and sort order of the categories.",
            "config": {
                "column_types": {"category": "varchar", "label": "varchar", "sort_order": "integer"}
            },
            "columns": [{"name": "category", "data_tests": ["unique", "not_null"]}],
        }
    ]
    for name in plan.seeds:
        if name == SEED_CATEGORIES:
            continue
        entries.append(
            {
                "name": name,
                "description": "A small lookup table unioned into some models.",
                "config": {
                    "column_types": {
                        "id": "integer",
                        "value": "double",
                        "category": "varchar",
                        "updated_at": "timestamp",
                    }
                },
            }
        )
    return _dump({"seeds": entries})


def _snapshots_yml(plan: ProjectPlan) -> str:
    data = {
        "snapshots": [
            {
                "name": plan.snapshot_name,
                "description": f"History of {plan.snapshot_of}.",
                "relation": f"ref('{plan.snapshot_of}')",
                "config": {
                    "unique_key": "id",
                    "strategy": "timestamp",
                    "updated_at": "updated_at",
                    "tags": ["snapshot"],
                },
            }
        ]
    }
    return _dump(data)


def _exposures_yml(plan: ProjectPlan) -> str:
    data = {
        "exposures": [
            {
                "name": "synth_dashboard",
                "label": "Synthetic dashboard",
                "type": "dashboard",
                "maturity": "medium",
                "url": "https://example.com/dashboards/synth",
                "description": "A dashboard reading two marts.",
                "depends_on": [f"ref('{name}')" for name in plan.exposure_refs],
                "owner": {"name": "Analytics", "email": "analytics@example.com"},
            }
        ]
    }
    return _dump(data)


MACRO_SQL = f"""\
{{% macro {MACRO_NAME}(expression, factor) -%}}
    round(({{{{ expression }}}}) * {{{{ factor }}}}, 4)
{{%- endmacro %}}
"""

GENERIC_TEST_SQL = """\
{% test non_negative(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
"""


def _rows_literal(rows: list[tuple[int, float, str]]) -> str:
    return ", ".join(f"({i}, {amount!r}, '{category}')" for i, amount, category in rows)


def _load_sql(table: str, rows: list[tuple[int, float, str]]) -> str:
    return (
        f"create or replace table {SOURCE_NAME}.{table} as "
        "select cast(id as integer) as id, cast(amount as double) as amount, "
        "cast(category as varchar) as category, "
        "cast(timezone('UTC', now()) as timestamp) as _loaded_at "
        f"from (values {_rows_literal(rows)}) as v(id, amount, category)"
    )


def _load_raw_py(plan: ProjectPlan) -> str:
    statements = "\n".join(
        f"    {table!r}: {_load_sql(table, rows)!r}," for table, rows in plan.source_rows.items()
    )
    return f'''\
"""Create the raw source tables of this synthetic dbt project, without eltkit.

Run from the project folder: ``python load_raw.py``. The database is
$SYNTH_DUCKDB_PATH, or target/synth.duckdb like profiles.yml.
"""

import os
from pathlib import Path

import duckdb

TABLES = {{
{statements}
}}


def main() -> None:
    path = Path(os.environ.get("SYNTH_DUCKDB_PATH", "target/synth.duckdb"))
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists {SOURCE_NAME}")
        for sql in TABLES.values():
            con.execute(sql)
    finally:
        con.close()
    print(f"loaded {{len(TABLES)}} raw tables into {{path}}")


if __name__ == "__main__":
    main()
'''


def _extract_py(plan: ProjectPlan) -> str:
    parts = [
        '"""Extract tasks: each creates one raw source table with a handful of rows."""\n',
        "from eltkit import TaskContext, task\n\n\n",
        "def _load(ctx: TaskContext, sql: str) -> int:\n"
        f'    ctx.warehouse.execute("create schema if not exists {SOURCE_NAME}")\n'
        "    ctx.warehouse.execute(sql)\n"
        f"    return {ROWS_PER_TABLE}\n",
    ]
    for table, rows in plan.source_rows.items():
        parts.append(
            "\n\n"
            f'@task(produces=["source:{SOURCE_NAME}.{table}"], tags=["extract"])\n'
            f"def extract_{table}(ctx: TaskContext) -> int:\n"
            f'    """Load {SOURCE_NAME}.{table} ({len(rows)} rows)."""\n'
            f"    return _load(ctx, {_load_sql(table, rows)!r})\n"
        )
    return "".join(parts)


def _eltkit_yml(plan: ProjectPlan) -> str:
    tasks = "[tasks/extract.py]" if plan.with_tasks else "[]"
    return f"dbt: {{project_dir: ., profiles_dir: ., threads: 4}}\ntasks: {tasks}\n"


def render_files(plan: ProjectPlan) -> dict[str, str]:
    """Every file of the project, as relative POSIX path -> text."""
    files: dict[str, str] = {
        "dbt_project.yml": _dbt_project_yml(plan),
        "profiles.yml": _profiles_yml(),
        "eltkit.yml": _eltkit_yml(plan),
        "load_raw.py": _load_raw_py(plan),
        ".gitignore": "target/\nlogs/\ndbt_packages/\n*.duckdb\n*.duckdb.wal\n.eltkit/\n",
        "models/staging/_sources.yml": _sources_yml(plan),
        "models/marts/_exposures.yml": _exposures_yml(plan),
        f"macros/{MACRO_NAME}.sql": MACRO_SQL,
        "tests/generic/non_negative.sql": GENERIC_TEST_SQL,
        "seeds/_seeds.yml": _seeds_yml(plan),
        "snapshots/_snapshots.yml": _snapshots_yml(plan),
    }
    if plan.with_tasks:
        files["tasks/extract.py"] = _extract_py(plan)
    for name, csv in plan.seeds.items():
        files[f"seeds/{name}.csv"] = csv
    for name, sql in plan.singular_tests.items():
        files[f"tests/{name}"] = sql

    by_folder: dict[str, list[dict[str, Any]]] = {}
    for m in plan.models:
        files[f"models/{m.folder}/{m.name}.sql"] = _model_sql(m, plan.snapshot_name)
        by_folder.setdefault(m.folder, []).append(_model_properties(m))
    for folder, entries in by_folder.items():
        leaf = folder.rsplit("/", 1)[-1]
        files[f"models/{folder}/_{leaf}__models.yml"] = _dump({"models": entries})
    if plan.unit_tests:
        files["models/_unit_tests.yml"] = _dump({"unit_tests": plan.unit_tests})
    return files


# --------------------------------------------------------------------------- public API


def generate_project(dest: Path, n_models: int, *, seed: int = 0, with_tasks: bool = True) -> Path:
    """Write a dbt project of n_models models into dest (created; must be empty or absent) and return dest."""  # noqa: E501
    dest = Path(dest)
    if dest.exists():
        if not dest.is_dir():
            raise FileExistsError(f"{dest} exists and is not a directory")
        if any(dest.iterdir()):
            raise FileExistsError(f"{dest} is not empty")
    plan = plan_project(n_models, seed=seed, with_tasks=with_tasks)
    _write(dest, render_files(plan))
    return dest


def _write(dest: Path, files: dict[str, str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    made: set[str] = set()
    for relative, text in files.items():
        parent = os.path.dirname(relative)
        if parent and parent not in made:
            (dest / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        with open(dest / relative, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.synthetic",
        description="Write a synthetic dbt-duckdb project for benchmarks and conformance tests.",
    )
    parser.add_argument("dest", type=Path, help="folder to create (must be empty or absent)")
    parser.add_argument("--models", "-n", type=int, required=True, help="number of models")
    parser.add_argument("--seed", "-s", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--no-tasks", action="store_true", help="do not write tasks/extract.py (eltkit tasks)"
    )
    args = parser.parse_args(argv)
    try:
        if args.dest.exists() and (not args.dest.is_dir() or any(args.dest.iterdir())):
            raise FileExistsError(f"{args.dest} exists and is not an empty folder")
        plan = plan_project(args.models, seed=args.seed, with_tasks=not args.no_tasks)
        _write(args.dest, render_files(plan))
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{key}={value}" for key, value in plan.summary().items())
    print(f"wrote {args.dest}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
