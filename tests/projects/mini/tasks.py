"""Tasks of the minimal test project."""

from eltkit import TaskContext, task


@task(produces=["source:src.t1"], tags=["extract"])
def load_t1(ctx: TaskContext) -> None:
    """Load the first raw table."""


@task(depends_on=["c"], tags=["export"])
def export_c(ctx: TaskContext) -> None:
    """Ship model c somewhere downstream."""
