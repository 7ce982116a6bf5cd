"""eltkit's selection equals `dbt ls` on real projects, expression by expression.

dbt runs for real (dbtRunner in this process, one parse per project, then one
`dbt ls` per expression with the parsed manifest); eltkit selects over its own
graph of the same manifest. Python tasks are eltkit's addition and are left
out of the comparison.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic import generate_project
from eltkit.project import Project, load_project
from tests.conftest import SAMPLE_PROJECT

pytestmark = pytest.mark.dbt


@dataclass
class Twin:
    """One project seen by both dbt (a parsed Manifest) and eltkit."""

    path: Path
    dbt_manifest: Any
    eltkit: Project

    def dbt_ls(self, select: list[str], exclude: list[str], extra: list[str]) -> set[str]:
        from dbt.cli.main import dbtRunner

        args = ["ls", "--project-dir", str(self.path), "--profiles-dir", str(self.path),
                "--output", "json", "--output-keys", "unique_id", "--log-level", "none"]
        if select:
            args += ["--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        result = dbtRunner(manifest=self.dbt_manifest).invoke(args + extra)
        assert result.success, result.exception
        import json

        return {json.loads(line)["unique_id"] for line in result.result or []}

    def eltkit_ls(self, select: list[str], exclude: list[str], **options: Any) -> set[str]:
        selected = self.eltkit.select(select or None, exclude or None, **options).selected
        return {uid for uid in selected if not uid.startswith("task.")}


def _twin(source: Path | None, dest: Path, generated: int | None = None) -> Twin:
    if generated is not None:
        generate_project(dest, generated, seed=7)
    else:
        assert source is not None
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("target", "logs"))
    from dbt.cli.main import dbtRunner

    parsed = dbtRunner().invoke(["parse", "--project-dir", str(dest), "--profiles-dir", str(dest),
                                 "--log-level", "none"])
    assert parsed.success, parsed.exception
    return Twin(dest, parsed.result, load_project(dest))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Twin:
    return _twin(SAMPLE_PROJECT, tmp_path_factory.mktemp("conf") / "sample")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Twin:
    return _twin(None, tmp_path_factory.mktemp("conf") / "synth", generated=80)


SAMPLE_CASES: list[tuple[list[str], list[str]]] = [
    ([], []),
    (["marts"], []),
    (["staging"], []),
    (["+fct_orders"], []),
    (["fct_orders+"], []),
    (["+fct_orders+"], []),
    (["@stg_orders"], []),
    (["1+fct_customers"], []),
    (["fct_customers+1"], []),
    (["2+dim_customers+1"], []),
    (["tag:daily"], []),
    (["tag:finance"], []),
    (["tag:fin*"], []),
    (["tag:daily,tag:finance"], []),
    (["tag:finance tag:slow"], []),
    (["tag:finance", "tag:slow"], []),
    (["path:models/marts"], []),
    (["path:models/staging/stg_orders.sql"], []),
    (["models/intermediate"], []),
    (["path:models/*/stg_*"], []),
    (["file:fct_orders.sql"], []),
    (["fct_orders.sql"], []),
    (["file:stg_orders"], []),
    (["fqn:jaffle.marts.*"], []),
    (["jaffle.staging.stg_*"], []),
    (["stg_*"], []),
    (["*_orders"], []),
    (["source:jaffle"], []),
    (["source:jaffle.raw_orders+"], []),
    (["source:*"], []),
    (["exposure:marketing_dashboard"], []),
    (["+exposure:marketing_dashboard"], []),
    (["resource_type:model"], []),
    (["resource_type:seed+"], []),
    (["resource_type:snapshot"], []),
    (["resource_type:unit_test"], []),
    (["resource_type:exposure"], []),
    (["package:jaffle"], []),
    (["package:this,tag:marts"], []),
    (["config.materialized:table"], []),
    (["config.materialized:incremental+"], []),
    (["config.meta.owner:analytics-engineering"], []),
    (["config.severity:WARN"], []),
    (["config.enabled:true,resource_type:seed"], []),
    (["test_type:generic"], []),
    (["test_type:singular"], []),
    (["test_type:unit"], []),
    (["test_type:data"], []),
    (["test_name:unique"], []),
    (["test_name:relationships"], []),
    (["test_name:accepted_values"], []),
    (["unit_test:*"], []),
    (["marts,tag:finance"], []),
    (["+fct_orders,tag:staging"], []),
    (["@int_order_payments"], []),
    (["customers_snapshot+"], []),
    (["country_codes+"], []),
    (["tag:daily"], ["tag:staging"]),
    (["+marts"], ["tag:slow", "stg_payments"]),
    ([], ["marts"]),
    (["no_such_model"], []),
]


@pytest.mark.parametrize(("select", "exclude"), SAMPLE_CASES,
                         ids=[" ".join(s) + (" -x " + " ".join(x) if x else "") or "(all)"
                              for s, x in SAMPLE_CASES])
def test_sample_project_matches_dbt_ls(sample: Twin, select: list[str],
                                       exclude: list[str]) -> None:
    assert sample.eltkit_ls(select, exclude) == sample.dbt_ls(select, exclude, [])


@pytest.mark.parametrize("mode", ["cautious", "buildable", "empty"])
@pytest.mark.parametrize("select", [["fct_orders"], ["+fct_orders"], ["int_order_payments+1"],
                                    ["tag:finance"]])
def test_indirect_selection_modes_match_dbt(sample: Twin, select: list[str], mode: str) -> None:
    assert sample.eltkit_ls(select, [], indirect_selection=mode) == sample.dbt_ls(
        select, [], ["--indirect-selection", mode])


@pytest.mark.parametrize("selector", ["nightly", "finance_only"])
def test_yaml_selectors_match_dbt(sample: Twin, selector: str) -> None:
    ours = sample.eltkit.select(selector=selector).selected
    assert {uid for uid in ours if not uid.startswith("task.")} == sample.dbt_ls(
        [], [], ["--selector", selector])
    if selector == "nightly":  # the extract tasks are tagged daily: eltkit selects them too
        assert "task.extract_orders" in ours


def test_selector_replaces_select_and_exclude_as_in_dbt(sample: Twin) -> None:
    ours = sample.eltkit.select(["fct_orders"], ["customer_ltv"], selector="finance_only")
    theirs = sample.dbt_ls(["fct_orders"], ["customer_ltv"], ["--selector", "finance_only"])
    assert {uid for uid in ours.selected if not uid.startswith("task.")} == theirs
    assert "model.jaffle.customer_ltv" in ours.selected


@pytest.mark.parametrize("resource_type", ["model", "test", "source", "all"])
def test_resource_type_filter_matches_dbt(sample: Twin, resource_type: str) -> None:
    assert sample.eltkit_ls(["+fct_orders"], [], resource_types=[resource_type]) == \
        sample.dbt_ls(["+fct_orders"], [], ["--resource-type", resource_type])


GENERATED_CASES: list[tuple[list[str], list[str]]] = [
    ([], []),
    (["tag:tag_a+"], []),
    (["+tag:tag_b"], []),
    (["tag:hourly,tag:marts"], []),
    (["1+tag:daily+1"], []),
    (["+exposure:*"], []),
    (["source:raw.table_002+"], []),
    (["path:models/intermediate"], []),
    (["intermediate.group_01"], []),
    (["config.materialized:incremental+"], []),
    (["config.materialized:ephemeral+"], []),
    (["@stg_0003"], []),
    (["stg_*"], []),
    (["tag:staging"], ["tag:tag_c"]),
    (["resource_type:seed+"], []),
    (["test_type:singular"], []),
    (["test_name:non_negative"], []),
    (["unit_test:*"], []),
    (["marts"], ["tag:tag_d", "tag:tag_e"]),
    (["snapshots"], []),
    (["2+fct_*+2"], []),
    (["tag:tag_f,config.materialized:view"], []),
]


@pytest.mark.parametrize(("select", "exclude"), GENERATED_CASES,
                         ids=[" ".join(s) + (" -x " + " ".join(x) if x else "") or "(all)"
                              for s, x in GENERATED_CASES])
def test_generated_project_matches_dbt_ls(generated: Twin, select: list[str],
                                          exclude: list[str]) -> None:
    assert generated.eltkit_ls(select, exclude) == generated.dbt_ls(select, exclude, [])


def test_state_modified_matches_dbt(sample: Twin, tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(sample.path / "target" / "manifest.json", state / "manifest.json")
    changed = tmp_path / "changed"
    shutil.copytree(sample.path, changed, ignore=shutil.ignore_patterns("target", "logs"))
    (changed / "models" / "marts" / "fct_payments.sql").write_text(
        (changed / "models" / "marts" / "fct_payments.sql").read_text() + "\n-- edited\n")
    (changed / "models" / "marts" / "new_model.sql").write_text(
        "select * from {{ ref('fct_orders') }}\n")
    macro = changed / "macros" / "cents_to_dollars.sql"
    macro.write_text(macro.read_text().replace("/ 100.0", "/ 100.00"))
    parsed = dbtRunner().invoke(["parse", "--project-dir", str(changed), "--profiles-dir",
                                 str(changed), "--log-level", "none"])
    assert parsed.success, parsed.exception
    twin = Twin(changed, parsed.result, load_project(changed))
    for expression in ("state:new", "state:modified", "state:modified.body",
                       "state:modified.macros", "state:modified+"):
        ours = twin.eltkit_ls([expression], [], state=state)
        theirs = twin.dbt_ls([expression], [], ["--state", str(state)])
        assert ours == theirs, expression
        assert ours, expression
