"""Names and tags shared by every component (components/naming.py): AWS's rules, table-tested."""

from __future__ import annotations

import pytest

from components.naming import (
    db_cluster_name,
    db_instance_identifier_problem,
    failover_instance_identifier,
    failover_instance_tag_count,
    tag_problem,
)


@pytest.mark.parametrize(
    ("identifier", "problem"),
    [
        ("magento-dr-secondary-db-failover-1", None),
        ("a", None),
        ("a" * 63, None),
        ("a" * 64, "64 characters long"),
        ("", "0 characters long"),
        ("1shop", "letter first"),
        ("-shop", "letter first"),
        ("shop-", "hyphen at the end"),
        ("shop--db", "two in a row"),
        ("shop_db", "letters, digits and hyphens only"),
        ("shop.db", "letters, digits and hyphens only"),
    ],
)
def test_db_instance_identifiers_as_rds_takes_them(identifier: str, problem: str | None) -> None:
    found = db_instance_identifier_problem(identifier)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_the_failover_instances_are_named_after_the_stacks_cluster() -> None:
    assert failover_instance_identifier(db_cluster_name("secondary", "eu-west-1"), 3) == "magento-dr-secondary-db-failover-3"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("cost-center", "e-commerce 7", None),
        ("owner", "", None),
        ("Équipe", "données/übersicht:=+@_.", None),
        ("k" * 128, "v" * 256, None),
        ("", "x", "1 to 128"),
        ("k" * 129, "x", "1 to 128"),
        ("owner", "v" * 257, "0 to 256"),
        ("aws:owner", "x", "reserved"),
        ("AWS:owner", "x", "reserved"),
        ("rds:owner", "x", "reserved"),
        ("owner", "rds:sre", "reserved"),
        ("owner", "sre#1", "'#'"),
        ("owner\t", "x", "'\\t'"),
    ],
)
def test_tags_as_rds_takes_them(key: str, value: str, problem: str | None) -> None:
    found = tag_problem(key, value)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_an_added_instance_carries_the_stacks_tags_and_the_functions_own_two() -> None:
    assert failover_instance_tag_count({"project": "magento-dr", "owner": "sre"}) == 4
    assert failover_instance_tag_count({"project": "magento-dr", "Name": "the user's"}) == 3  # its own Name wins
