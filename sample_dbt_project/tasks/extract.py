"""Extract tasks of the sample project: load the raw jaffle shop tables.

They pretend to pull customers, orders and payments from a shop API. The data
comes from seeded generators so every run (and every test) sees the same rows;
only ``_loaded_at`` moves with the run, which is what source freshness checks.
Set ``ELTKIT_SAMPLE_STALE_HOURS`` to age ``_loaded_at`` and demo stale sources.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eltkit import TaskContext, task

if TYPE_CHECKING:
    import duckdb

RAW_SCHEMA = "raw"
CUSTOMER_COUNT = 100
ORDER_COUNT = 500
# Customers above this id never order, so marts have customers without orders.
ORDERING_CUSTOMERS = 90
# Placed orders are not paid yet, and a handful of paid orders are deliberately
# underpaid so the warn-severity test assert_order_payments_match has findings.
UNDERPAID_ORDER_IDS = frozenset({37, 211, 404})
# How long before the end of the data interval the "API pull" happened.
LOAD_LAG = timedelta(minutes=5)
STALE_HOURS_ENV = "ELTKIT_SAMPLE_STALE_HOURS"

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Maya",
    "Nico",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
LAST_NAMES = (
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
)
# Domains map to countries through the country_codes seed.
EMAIL_DOMAINS = (
    "example.com",
    "example.com",
    "example.com",
    "example.co.uk",
    "example.de",
    "example.fr",
    "example.nl",
    "example.es",
    "example.se",
)
STATUSES = ("placed", "shipped", "completed", "return_pending", "returned")
STATUS_WEIGHTS = (10, 12, 60, 6, 12)
PAYMENT_METHODS = ("credit_card", "bank_transfer", "gift_card")
PAYMENT_METHOD_WEIGHTS = (70, 20, 10)


def _loaded_at(ctx: TaskContext) -> datetime:
    """Naive UTC load time: DuckDB TIMESTAMP columns carry no time zone."""
    end = ctx.data_interval_end
    if end.tzinfo is not None:
        end = end.astimezone(UTC).replace(tzinfo=None)
    loaded_at = end - LOAD_LAG
    stale_hours = os.environ.get(STALE_HOURS_ENV, "").strip()
    if stale_hours:
        try:
            loaded_at -= timedelta(hours=float(stale_hours))
        except ValueError:
            raise ValueError(
                f"{STALE_HOURS_ENV} must be a number of hours, got {stale_hours!r}"
            ) from None
    return loaded_at


def _customers() -> list[tuple[Any, ...]]:
    rng = random.Random(1001)
    rows = []
    for customer_id in range(1, CUSTOMER_COUNT + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}{customer_id}@{rng.choice(EMAIL_DOMAINS)}".lower()
        created_at = datetime(2023, 1, 1) + timedelta(
            days=rng.randrange(365), seconds=rng.randrange(86_400)
        )
        rows.append((customer_id, first, last, email, created_at))
    return rows


def _orders() -> list[tuple[Any, ...]]:
    rng = random.Random(2002)
    rows = []
    for order_id in range(1, ORDER_COUNT + 1):
        customer_id = rng.randint(1, ORDERING_CUSTOMERS)
        order_date = date(2024, 1, 1) + timedelta(days=rng.randrange(182))
        status = rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]
        amount_cents = rng.randrange(500, 15_000, 5)
        rows.append((order_id, customer_id, order_date, status, amount_cents))
    return rows


def _payments() -> list[tuple[Any, ...]]:
    """Payments for the orders above: some split off a coupon, placed ones unpaid."""
    rng = random.Random(3003)
    rows: list[tuple[Any, ...]] = []
    for order_id, _customer_id, _order_date, status, amount_cents in _orders():
        if status == "placed":
            continue
        due = amount_cents - 250 if order_id in UNDERPAID_ORDER_IDS else amount_cents
        if rng.random() < 0.3:
            coupon = min(due // 5 * 5, rng.randrange(100, 2_000, 50))
            rows.append((len(rows) + 1, order_id, "coupon", coupon))
            due -= coupon
        if due > 0:
            method = rng.choices(PAYMENT_METHODS, weights=PAYMENT_METHOD_WEIGHTS)[0]
            rows.append((len(rows) + 1, order_id, method, due))
    return rows


def _replace_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> int:
    """Recreate ``raw.<table>`` with ``rows`` in one transaction.

    ``table`` and ``columns`` are constants of this module, never input; values
    only travel as parameters. The transaction keeps readers from ever seeing a
    half-loaded table.
    """
    placeholders = ", ".join("?" for _ in columns)
    con.begin()
    try:
        con.execute(f"create schema if not exists {RAW_SCHEMA}")
        con.execute(f"create or replace table {RAW_SCHEMA}.{table} ({', '.join(columns)})")
        con.executemany(f"insert into {RAW_SCHEMA}.{table} values ({placeholders})", rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return len(rows)


@task(
    produces=["source:jaffle.raw_customers"],
    tags=["extract", "daily"],
    retries=2,
    retry_delay=1,
    timeout=120,
)
def extract_customers(ctx: TaskContext) -> int:
    """Load the shop's customers into raw.raw_customers."""
    loaded_at = _loaded_at(ctx)
    rows = [(*row, loaded_at) for row in _customers()]
    written = _replace_table(
        ctx.warehouse,
        "raw_customers",
        (
            "id integer",
            "first_name varchar",
            "last_name varchar",
            "email varchar",
            "created_at timestamp",
            "_loaded_at timestamp",
        ),
        rows,
    )
    ctx.log.info("wrote %d customers (loaded_at %s)", written, loaded_at.isoformat())
    return written


@task(
    produces=["source:jaffle.raw_orders"],
    tags=["extract", "daily"],
    retries=2,
    retry_delay=1,
    timeout=120,
)
def extract_orders(ctx: TaskContext) -> int:
    """Load the shop's orders into raw.raw_orders."""
    loaded_at = _loaded_at(ctx)
    rows = [(*row, loaded_at) for row in _orders()]
    written = _replace_table(
        ctx.warehouse,
        "raw_orders",
        (
            "id integer",
            "customer_id integer",
            "order_date date",
            "status varchar",
            "amount_cents integer",
            "_loaded_at timestamp",
        ),
        rows,
    )
    ctx.log.info("wrote %d orders (loaded_at %s)", written, loaded_at.isoformat())
    return written


@task(
    produces=["source:jaffle.raw_payments"],
    tags=["extract", "daily", "finance"],
    retries=2,
    retry_delay=1,
    timeout=120,
)
def extract_payments(ctx: TaskContext) -> int:
    """Load the payments of the shop's orders into raw.raw_payments."""
    loaded_at = _loaded_at(ctx)
    rows = [(*row, loaded_at) for row in _payments()]
    written = _replace_table(
        ctx.warehouse,
        "raw_payments",
        (
            "id integer",
            "order_id integer",
            "payment_method varchar",
            "amount_cents integer",
            "_loaded_at timestamp",
        ),
        rows,
    )
    ctx.log.info("wrote %d payments (loaded_at %s)", written, loaded_at.isoformat())
    return written
