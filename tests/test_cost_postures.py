"""`make cost` per standby posture: each priced from its own graph, beside the RTO budget that graph exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offline.cost import Assumptions, PostureEstimate, PriceTable, estimates, main, posture_estimates, postures_json, postures_svg, render_postures
from offline.runner import StackGraph

pytestmark = pytest.mark.xdist_group("posture-graphs")

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.fixture(scope="module")
def postures(primary: StackGraph, posture_secondaries: dict[str, StackGraph]) -> list[PostureEstimate]:
    return posture_estimates(primary, PriceTable.load(), Assumptions(), posture_secondaries)


@pytest.fixture(scope="module")
def primary_total(primary: StackGraph) -> float:
    return estimates([primary], PriceTable.load(), Assumptions())[0].total


def test_each_posture_buys_speed_with_money(postures: list[PostureEstimate]) -> None:
    by = {p.posture: p for p in postures}
    assert list(by) == ["pilot-light", "warm", "hot"]
    assert by["pilot-light"].estimate.total < by["warm"].estimate.total < by["hot"].estimate.total
    assert by["pilot-light"].takes_orders_seconds > by["warm"].takes_orders_seconds == by["hot"].takes_orders_seconds
    assert by["hot"].full_capacity_seconds == by["hot"].takes_orders_seconds < by["warm"].full_capacity_seconds
    # Each figure is the graph's own export for that posture, not a recomputation.
    assert all(p.rto_budget["posture"] == p.posture for p in postures)


def test_a_pilot_light_pays_for_no_db_or_web_instance_but_for_the_cache_it_cannot_shrink(postures: list[PostureEstimate]) -> None:
    pilot = next(p for p in postures if p.posture == "pilot-light").estimate
    warm = next(p for p in postures if p.posture == "warm").estimate
    assert not [i for i in pilot.items if i.item.startswith("Aurora instance")], pilot.items
    assert sum(i.monthly_usd for i in pilot.items if i.category == "compute") == 0
    assert [i.item for i in pilot.items if i.item.startswith("NAT gateway") and "data" not in i.item] == ["NAT gateway network-nat-0"]
    cache = lambda e: sum(i.monthly_usd for i in e.items if i.category == "cache")  # noqa: E731
    assert cache(pilot) > 0
    assert cache(pilot) == pytest.approx(cache(warm))
    assert sum(i.monthly_usd for i in pilot.items if i.category == "database") > 0  # storage and replicated writes


def test_the_readme_table_is_what_make_cost_prints(postures: list[PostureEstimate], primary_total: float) -> None:
    section = README.split("## Standby postures and their price", 1)[1].split("\n## ", 1)[0]
    assert f"(${primary_total:,.0f})" in section
    for p in postures:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{p.posture}` | "))
        cells = [c.strip(" *") for c in row.split("|")[1:-1]]
        assert cells[1] == f"${p.estimate.total:,.0f}", row
        assert cells[2] == f"{p.estimate.total / primary_total:.0%}".replace("%", " %"), row
        assert cells[3] == f"{p.takes_orders_seconds / 60:.1f} min" and cells[4] == f"{p.full_capacity_seconds / 60:.1f} min", row


def test_the_text_json_and_chart_carry_every_posture(postures: list[PostureEstimate], primary: StackGraph, tmp_path: Path) -> None:
    primary_estimate = estimates([primary], PriceTable.load(), Assumptions())[0]
    text = render_postures(postures, primary_estimate)
    assert [line.split()[0] for line in text.splitlines() if re.match(r"^  (pilot-light|warm|hot) ", line)] == ["pilot-light", "warm", "hot"]
    rows = postures_json(postures, primary_estimate)
    assert [r["posture"] for r in rows] == ["pilot-light", "warm", "hot"]
    assert all(r["monthly_usd"] == pytest.approx(sum(i["monthly_usd"] for i in r["items"]), abs=0.05) for r in rows)
    svg = postures_svg(postures, primary_estimate)
    assert svg.count("<circle") == 3 and all(f"{p.posture}: ${p.estimate.total:,.0f}" in svg for p in postures)


def test_make_cost_writes_the_chart_where_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    primary: StackGraph, secondary: StackGraph, bunker: StackGraph, postures: list[PostureEstimate],
) -> None:
    """The command's wiring; the graphs are the session's (the same runs `make cost` makes, built once here)."""
    import offline.cost as cost

    monkeypatch.setattr(cost, "run_pair", lambda: (primary, secondary))
    monkeypatch.setattr(cost, "run_database_standby", lambda graph: bunker)
    monkeypatch.setattr(cost, "posture_estimates", lambda graph, prices, assume: postures)
    chart = tmp_path / "chart.svg"
    assert main(["--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert chart.read_text().startswith("<svg") and f"chart: {chart}" in out and "Standby postures" in out
