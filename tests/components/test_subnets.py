"""Subnet arithmetic (pure)."""

from __future__ import annotations

import ipaddress

import pytest

from components.subnets import plan_subnets


@pytest.mark.parametrize(
    ("cidr", "azs", "first", "last"),
    [
        ("10.10.0.0/16", 3, ("10.10.0.0/21", "10.10.64.0/21", "10.10.128.0/21"), ("10.10.16.0/21", "10.10.80.0/21", "10.10.144.0/21")),
        ("10.20.0.0/16", 2, ("10.20.0.0/21", "10.20.64.0/21", "10.20.128.0/21"), ("10.20.8.0/21", "10.20.72.0/21", "10.20.136.0/21")),
        ("172.16.0.0/20", 6, ("172.16.0.0/25", "172.16.4.0/25", "172.16.8.0/25"), ("172.16.2.128/25", "172.16.6.128/25", "172.16.10.128/25")),
        ("192.168.0.0/23", 8, ("192.168.0.0/28", "192.168.0.128/28", "192.168.1.0/28"), ("192.168.0.112/28", "192.168.0.240/28", "192.168.1.112/28")),
    ],
)
def test_plan(cidr: str, azs: int, first: tuple[str, str, str], last: tuple[str, str, str]) -> None:
    plan = plan_subnets(cidr, azs)
    assert len(plan) == azs
    assert (plan[0].public, plan[0].private, plan[0].data) == first
    assert (plan[-1].public, plan[-1].private, plan[-1].data) == last


@pytest.mark.parametrize(("cidr", "azs"), [("10.10.0.0/16", n) for n in range(1, 9)] + [("10.0.0.0/20", 6)])
def test_subnets_are_disjoint_and_inside_the_vpc(cidr: str, azs: int) -> None:
    vpc = ipaddress.IPv4Network(cidr)
    subnets = [ipaddress.IPv4Network(c) for az in plan_subnets(cidr, azs) for c in (az.public, az.private, az.data)]
    assert all(s.subnet_of(vpc) for s in subnets)
    for i, a in enumerate(subnets):
        for b in subnets[i + 1 :]:
            assert not a.overlaps(b)


def test_adding_an_az_never_renumbers_existing_subnets() -> None:
    two, three = plan_subnets("10.10.0.0/16", 2), plan_subnets("10.10.0.0/16", 3)
    assert three[:2] == two


@pytest.mark.parametrize(
    ("cidr", "azs", "message"),
    [("10.0.0.0/24", 3, "too small"), ("10.0.0.0/16", 0, "between 1 and 8"), ("10.0.0.0/16", 9, "between 1 and 8")],
)
def test_rejects_impossible_plans(cidr: str, azs: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_subnets(cidr, azs)
