"""ShopTrafficArgs (pure): which record watches which deep checks."""

from __future__ import annotations

from typing import Any

import pytest

from components.traffic import HealthCheckPlan, ShopTrafficArgs

SHOP = "shop.example.com"


def _args(*, is_primary: bool, peer: str | None, **change: Any) -> ShopTrafficArgs:
    region = "us-east-1" if is_primary else "eu-west-1"
    values: dict[str, Any] = {
        "stack": "primary" if is_primary else "secondary",
        "region": region,
        "is_primary": is_primary,
        "zone_id": "Z1",
        "shop_hostname": SHOP,
        "regional_hostname": f"{region}.{SHOP}",
        "alb_dns_name": "alb",
        "alb_zone_id": "Z2",
        "health_check": HealthCheckPlan(f"{region}.{SHOP}", 10, 3),
        "peer_regional_hostname": peer,
        **change,
    }
    return ShopTrafficArgs(**values)


def test_primary_watches_no_peer() -> None:
    assert _args(is_primary=True, peer=None).peer_health_check() is None


def test_secondary_watches_the_primarys_deep_check_with_its_own_cadence() -> None:
    plan = _args(is_primary=False, peer=f"us-east-1.{SHOP}").peer_health_check()
    assert plan == HealthCheckPlan(f"us-east-1.{SHOP}", 10, 3)
    assert plan.resource_path == "/health_check.php"


@pytest.mark.parametrize(
    ("is_primary", "peer", "message"),
    [
        (True, f"eu-west-1.{SHOP}", "is for the secondary"),
        (False, None, "required in the secondary"),
        (False, f"eu-west-1.{SHOP}", "required in the secondary"),  # its own name: it would watch itself
        (False, "us-east-1.other.example.com", "required in the secondary"),  # not under the shop hostname
    ],
)
def test_args_refuse_a_peer_check_that_cannot_mean_the_primary_is_failing(is_primary: bool, peer: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(is_primary=is_primary, peer=peer)
