"""Build once for the whole module, then assert many things on the same tables."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.eltkit(select="+revenue_by_payment_method")


def test_every_payment_method_has_revenue(eltkit_module):
    methods = eltkit_module.table("revenue_by_payment_method", order_by="payment_method")
    assert [row["payment_method"] for row in methods] == [
        "bank_transfer", "coupon", "credit_card", "gift_card"]


def test_net_is_gross_minus_fees(eltkit_module):
    rows = eltkit_module.sql(
        "select count(*) as off from revenue_by_payment_method "
        "where abs(gross_amount - processing_fees - net_amount) > 0.01")
    assert rows == [{"off": 0}]
