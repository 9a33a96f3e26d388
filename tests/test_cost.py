"""`make cost`: every resource the program declares is priced or named free, from a sourced price table."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from offline.cost import FREE, HOURS_PER_MONTH, RULES, Assumptions, MissingPrice, PriceTable, as_json, estimate, estimates, total, unpriced_types
from offline.runner import StackGraph, load_stack_config

# The accelerated pair (session fixture) is shared with the modules of this xdist group.
pytestmark = pytest.mark.xdist_group("accelerated")

PRICES = PriceTable.load()


@pytest.mark.parametrize("name", ["primary", "secondary", "bunker"])
def test_every_declared_resource_is_priced_or_named_free(name: str, primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> None:
    graph = {"primary": primary, "secondary": secondary, "bunker": bunker}[name]
    assert unpriced_types(graph) == [], "add a pricing rule or a reason to offline/cost.py"
    items = estimate(graph, PRICES, Assumptions())
    assert items and all(i.monthly_usd >= 0 for i in items)


def test_the_accelerators_resources_are_priced_too(accelerated: tuple[StackGraph, StackGraph]) -> None:
    for graph in accelerated:
        assert unpriced_types(graph) == [], f"{graph.stack}: add a pricing rule or a reason to offline/cost.py"
    items = estimate(accelerated[0], PRICES, Assumptions())
    fee = [i for i in items if i.item == "Global Accelerator fixed fee"]
    assert fee and fee[0].monthly_usd == pytest.approx(HOURS_PER_MONTH * 0.025)  # the README's ~$18 a month
    gate = [i for i in items if "ALB health checks" in i.item]
    assert gate and gate[0].monthly_usd > 0


def test_rules_and_free_reasons_do_not_overlap() -> None:
    assert not set(RULES) & set(FREE)
    assert all(reason.strip() for reason in FREE.values())


def test_every_price_names_its_source_and_an_estimate_says_its_basis() -> None:
    document = json.loads(Path("offline/prices.json").read_text())
    for entry in document["prices"]:
        assert entry["source"] in document["sources"], entry
        assert entry["confidence"] != "estimate" or entry.get("estimate"), entry


def test_a_region_without_prices_is_refused_naming_the_entry(primary: StackGraph) -> None:
    document = json.loads(Path("offline/prices.json").read_text())
    document["prices"] = [p for p in document["prices"] if not (p["key"] == "ec2:m7g.large" and p["region"] == "us-east-1")]
    with pytest.raises(MissingPrice, match=r"'ec2:m7g.large' for us-east-1"):
        estimate(primary, PriceTable(document), Assumptions())


def test_the_standby_pays_for_its_standby_capacity_not_production(primary: StackGraph, secondary: StackGraph) -> None:
    web = load_stack_config("secondary")["magento-dr:web"]
    price = PRICES.get(f"ec2:{web['instanceType']}", "eu-west-1").usd
    (compute,) = [i for i in estimate(secondary, PRICES, Assumptions()) if i.item.startswith("web instances (")]
    assert compute.monthly_usd == pytest.approx(web["standbyCapacity"] * HOURS_PER_MONTH * price, abs=0.01)
    (primary_compute,) = [i for i in estimate(primary, PRICES, Assumptions()) if i.item.startswith("web instances (")]
    assert primary_compute.monthly_usd > compute.monthly_usd


def test_usage_assumptions_drive_their_lines_and_unknown_ones_are_refused(primary: StackGraph, tmp_path: Path) -> None:
    base = total(estimate(primary, PRICES, Assumptions()))
    more = total(estimate(primary, PRICES, dataclasses.replace(Assumptions(), cdn_egress_gb=2000.0)))
    assert more - base == pytest.approx(1000 * PRICES.get("cloudfront:gb", "global").usd, abs=0.02)
    bad = tmp_path / "a.yaml"
    bad.write_text("cdn_egres_gb: 10\n")
    with pytest.raises(ValueError, match="cdn_egres_gb is not an assumption"):
        Assumptions.load(bad)


def test_the_json_adds_up_and_shows_each_stacks_share(primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> None:
    results = estimates([primary, secondary, bunker], PRICES, Assumptions())
    document = as_json(results, PRICES, Assumptions())
    for stack in document["stacks"]:
        assert stack["monthly_usd"] == pytest.approx(sum(i["monthly_usd"] for i in stack["items"]), abs=0.05)
        assert stack["monthly_usd"] == pytest.approx(sum(stack["by_category"].values()), abs=0.05)
    shares = {s["stack"]: s["share_of_primary"] for s in document["stacks"]}
    assert shares["primary"] == 1.0 and 0 < shares["bunker"] < shares["secondary"] < 1
