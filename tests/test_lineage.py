"""Column lineage (eltkit.lineage) on the sample's compiled models, and on SQL it cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import Node
from eltkit.lineage import (
    ColumnLineageIndex,
    ColumnRef,
    NotDerivable,
    TraceStep,
    derive_columns,
    dialect_for,
    index_for,
    nested_schema,
    origins,
    split_relation,
)
from eltkit.project import load_project

RAW_ORDERS = "source.jaffle.jaffle.raw_orders"


@pytest.fixture(scope="module")
def sample_index(built_sample_template: Path) -> ColumnLineageIndex:
    """The sample after a real `eltkit build`: its manifest holds the compiled SQL."""
    project = load_project(built_sample_template, parse=False)
    return index_for(project.graph, project.manifest, target_path=project.target_path,
                     project_dir=project.dbt_project_dir)


def direct(index: ColumnLineageIndex, uid: str) -> dict[str, list[tuple[str | None, str]]]:
    lineage = index.model(uid)
    assert lineage.derivable, lineage.reason
    return {c.name: [(r.unique_id, r.column) for r in c.sources] for c in lineage.columns}


def test_fct_orders_columns_trace_back_through_staging_to_the_source(
        sample_index: ColumnLineageIndex) -> None:
    assert sample_index.dialect == "duckdb"
    assert direct(sample_index, "model.jaffle.fct_orders") == {
        "order_id": [("model.jaffle.stg_orders", "order_id")],
        "customer_id": [("model.jaffle.stg_orders", "customer_id")],
        "amount": [("model.jaffle.stg_orders", "amount_cents")],  # cents_to_dollars(...)
    }
    # stg_orders reads `select * from source`: expanded with the source's declared columns.
    assert direct(sample_index, "model.jaffle.stg_orders")["order_id"] == [(RAW_ORDERS, "id")]
    steps = sample_index.trace("model.jaffle.fct_orders", "amount")
    assert [s.ref.unique_id for s in steps] == ["model.jaffle.stg_orders"]
    assert [(s.ref.unique_id, s.ref.column) for s in steps[0].upstream] == [
        (RAW_ORDERS, "amount_cents")]
    assert origins(steps) == [ColumnRef("jaffle.raw.raw_orders", "amount_cents", RAW_ORDERS)]
    assert origins(sample_index.trace("model.jaffle.fct_orders", "order_id"))[0].column == "id"


def test_every_sample_model_is_derived_and_every_column_starts_at_a_source_or_seed(
        sample_index: ColumnLineageIndex) -> None:
    graph = sample_index.graph
    models = [uid for uid, node in graph.nodes.items()
              if node.resource_type in ("model", "snapshot")]
    assert len(models) >= 20
    for uid in models:
        lineage = sample_index.model(uid)
        assert lineage.derivable, lineage.reason
        assert lineage.columns, uid
        for column in lineage.columns:
            assert column.name != "*", f"{uid}: a star was left unexpanded"
            assert not column.unresolved, (uid, column)
            for ref in column.sources:
                assert ref.unique_id in graph.parents[uid] or ref.unique_id in \
                    graph.upstream_of([uid]), (uid, column.name, ref)
            for end in trace_ends(sample_index.trace(uid, column.name)):
                # A trace ends at a source's or a seed's column, or where a column is
                # computed from no column at all (count(*) in int_order_payments).
                assert graph.nodes[end.ref.unique_id or ""].resource_type in (
                    "source", "seed") or (end.note or "").startswith("computed: "), \
                    (uid, column.name, end)


def trace_ends(steps: tuple[TraceStep, ...]) -> list[TraceStep]:
    ends, stack = [], list(steps)
    while stack:
        step = stack.pop()
        stack.extend(step.upstream)
        if not step.upstream:
            ends.append(step)
    return ends


def test_a_column_read_through_an_ephemeral_model_keeps_that_hop(
        sample_index: ColumnLineageIndex) -> None:
    """dbt inlines int_customer_orders (ephemeral) as a __dbt__cte__ CTE in customer_ltv."""
    assert sample_index.graph.nodes["model.jaffle.int_customer_orders"].materialized == \
        "ephemeral"
    assert direct(sample_index, "model.jaffle.customer_ltv")["lifetime_value"] == [
        ("model.jaffle.int_customer_orders", "lifetime_value")]
    starts = {(r.unique_id, r.column)
              for r in origins(sample_index.trace("model.jaffle.customer_ltv",
                                                  "lifetime_value"))}
    # sum(amount) filter (where is_revenue): the amount, and the seed's is_revenue flag.
    assert starts == {(RAW_ORDERS, "amount_cents"),
                      ("seed.jaffle.order_status_labels", "is_revenue")}


def test_select_star_over_a_seed_uses_its_csv_header(sample_index: ColumnLineageIndex) -> None:
    seed = "seed.jaffle.order_status_labels"
    # The YAML documents two of its columns; the file has five.
    assert len(sample_index.graph.nodes[seed].raw["columns"]) == 2  # type: ignore[index]
    assert sample_index.columns_of(seed) == ["status", "status_label", "is_final",
                                             "is_revenue", "sort_order"]
    enriched = direct(sample_index, "model.jaffle.int_orders_enriched")
    assert enriched["status_label"] == [("model.jaffle.stg_order_status_labels",
                                         "status_label")]
    assert enriched["is_fully_paid"] == [("model.jaffle.int_order_payments",
                                          "total_paid_cents"),
                                         ("model.jaffle.stg_orders", "amount_cents")]


def test_aggregates_and_literals_read_no_column(sample_index: ColumnLineageIndex) -> None:
    lineage = sample_index.model("model.jaffle.int_customer_orders")
    count = lineage.column("number_of_orders")
    assert count is not None and count.sources == () and count.computed == ("COUNT(*)",)


def test_a_snapshot_of_a_relation_has_its_columns_and_dbts_own(
        sample_index: ColumnLineageIndex) -> None:
    columns = direct(sample_index, "snapshot.jaffle.customers_snapshot")
    assert columns["email"] == [("source.jaffle.jaffle.raw_customers", "email")]
    assert columns["dbt_valid_to"] == []


def test_what_is_not_a_sql_model_gets_a_one_line_reason(
        sample_index: ColumnLineageIndex) -> None:
    for uid, words in ((RAW_ORDERS, "source jaffle.raw_orders is a source"),
                       ("seed.jaffle.order_status_labels", "is a seed"),
                       ("model.nope.missing", "not in the project's DAG")):
        lineage = sample_index.model(uid)
        assert not lineage.derivable and lineage.columns == ()
        assert words in (lineage.reason or "") and "\n" not in (lineage.reason or "")
    task = next(uid for uid, n in sample_index.graph.nodes.items() if n.resource_type == "task")
    assert "is a task" in (sample_index.model(task).reason or "")


# -- SQL sqlglot cannot resolve ---------------------------------------------------------


def model(name: str, sql: str | None, *, depends_on: tuple[str, ...] = (),
          language: str = "sql", materialized: str = "table") -> Node:
    raw = {"unique_id": f"model.p.{name}", "relation_name": f'"db"."main"."{name}"',
           "language": language, "columns": {}}
    if sql is not None:
        raw["compiled_code"] = sql
    return Node(f"model.p.{name}", "model", name, "p", ("p", name), f"models/{name}.sql",
                depends_on=depends_on, config={"materialized": materialized}, raw=raw)


def source(name: str, columns: list[str]) -> Node:
    raw = {"unique_id": f"source.p.raw.{name}", "relation_name": f'"db"."raw"."{name}"',
           "columns": {c: {"name": c} for c in columns}}
    return Node(f"source.p.raw.{name}", "source", name, "p", ("p", "raw", name),
                "models/sources.yml", source_name="raw", raw=raw)


def index_of(*nodes: Node, target_path: Path | None = None) -> ColumnLineageIndex:
    return ColumnLineageIndex(Graph.from_nodes("p", nodes), dialect="duckdb",
                              target_path=target_path)


@pytest.mark.parametrize(("sql", "words"), [
    ("select foo( from", "sqlglot cannot parse the SQL"),
    ("select 1 as a; select 2 as b", "not a single select statement"),
    ("create table x as select 1", "not a single select statement"),
    ("  \n", "the compiled SQL is empty"),
    ("{{ config(materialized='table') }}", "not a single select statement"),
])
def test_sql_sqlglot_cannot_read_is_not_derivable_with_a_reason(sql: str, words: str) -> None:
    with pytest.raises(NotDerivable) as raised:
        derive_columns(sql, {}, "duckdb")
    assert words in raised.value.reason and "\n" not in raised.value.reason
    lineage = index_of(model("m", sql)).model("model.p.m")
    assert not lineage.derivable and lineage.columns == ()
    # (whitespace only: dbt wrote no SQL, so the index says to compile the model)
    assert (lineage.reason or "").startswith("model m: " if sql.strip() else
                                             "model m is not compiled yet")


def test_a_column_sqlglot_cannot_place_is_unresolved_not_guessed() -> None:
    index = index_of(source("a", []), source("b", []),
                     model("m", 'select id, a.x from "db"."raw"."a" as a join "db"."raw"."b" '
                                "as b on a.k = b.k",
                           depends_on=("source.p.raw.a", "source.p.raw.b")))
    lineage = index.model("model.p.m")
    column = lineage.column("id")
    assert column is not None and column.sources == () and column.unresolved == ("id",)
    x = lineage.column("x")
    assert x is not None and [(r.unique_id, r.column) for r in x.sources] == [
        ("source.p.raw.a", "x")]


def test_select_star_of_a_relation_with_unknown_columns_says_so() -> None:
    index = index_of(source("a", []), model("m", 'select * from "db"."raw"."a"',
                                            depends_on=("source.p.raw.a",)),
                     model("n", 'select * from "db"."main"."m"', depends_on=("model.p.m",)))
    lineage = index.model("model.p.n")
    assert [(c.name, [(r.unique_id, r.column) for r in c.sources]) for c in lineage.columns] \
        == [("*", [("model.p.m", "*")])]
    assert index.columns_of("model.p.m") is None
    (step,) = index.trace("model.p.n", "*")
    assert step.note == "`*`: sqlglot cannot tell which of its columns"


def test_declared_source_columns_expand_a_star_and_unknown_tables_stay_unmatched() -> None:
    index = index_of(source("a", ["id", "name"]),
                     model("m", 'select s.*, t.z from "db"."raw"."a" as s cross join other.t',
                           depends_on=("source.p.raw.a",)))
    columns = {c.name: [(r.unique_id, r.relation, r.column) for r in c.sources]
               for c in index.model("model.p.m").columns}
    assert columns == {"id": [("source.p.raw.a", "db.raw.a", "id")],
                       "name": [("source.p.raw.a", "db.raw.a", "name")],
                       "z": [(None, "other.t", "z")]}
    (step,) = index.trace("model.p.m", "z")
    assert step.note == "not a relation of this project"


def test_not_compiled_and_python_models_say_what_to_do(tmp_path: Path) -> None:
    index = index_of(model("m", None), model("py", "def model(dbt, s): ...", language="python"),
                     target_path=tmp_path)
    assert "not compiled yet: run `eltkit build`" in (index.model("model.p.m").reason or "")
    assert "python model" in (index.model("model.p.py").reason or "")
    # dbt's target/compiled/ file is read when the manifest has no compiled_code.
    compiled = tmp_path / "compiled" / "p" / "models" / "m.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text("select 1 as one")
    fresh = index_of(model("m", None), target_path=tmp_path).model("model.p.m")
    assert fresh.derivable and fresh.columns[0].computed == ("1",)


def test_a_trace_stops_at_its_depth_limit() -> None:
    nodes = [source("a", ["id"]), model("m0", 'select id from "db"."raw"."a"',
                                        depends_on=("source.p.raw.a",))]
    for i in range(1, 6):
        nodes.append(model(f"m{i}", f'select id from "db"."main"."m{i - 1}"',
                           depends_on=(f"model.p.m{i - 1}",)))
    index = index_of(*nodes)
    (deep,) = index.trace("model.p.m5", "id")
    assert origins([deep])[0].unique_id == "source.p.raw.a"
    (short,) = index_of(*nodes).trace("model.p.m5", "id", max_depth=2)
    assert short.upstream[0].note == "more than 2 models upstream"


def test_relation_names_split_like_the_warehouse_quotes_them() -> None:
    assert split_relation('"Jaffle"."main"."Orders"') == ("jaffle", "main", "orders")
    assert split_relation("analytics.dbt.orders") == ("analytics", "dbt", "orders")
    assert split_relation("`proj`.`ds`.`t`") == ("proj", "ds", "t")
    assert split_relation("`proj.ds.t`") == ("proj", "ds", "t")
    assert split_relation('[db].[dbo].[my.table]') == ("db", "dbo", "my.table")
    assert split_relation('"a.b"."c"') == ("a.b", "c")


def test_schema_nesting_keeps_the_common_depth_and_dialects_map() -> None:
    schema = nested_schema({("db", "raw", "a"): ["id"], ("db", "main", "b"): ["x"],
                            ("c",): ["y"]})
    assert schema == {"db": {"raw": {"a": {"id": "UNKNOWN"}}, "main": {"b": {"x": "UNKNOWN"}}}}
    assert nested_schema({}) == {}
    assert dialect_for("duckdb") == "duckdb" and dialect_for("sqlserver") == "tsql"
    assert dialect_for("nosuch") is None and dialect_for(None) is None
