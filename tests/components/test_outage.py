"""Outage mode's pure parts: which regions a resource needs, the config that switches it on, the zone id."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import ConfigError, parse_settings
from components.hosted_zone import check_zone_id, lookup_needs_dark_region
from components.outage import GLOBAL_CONTROL_PLANES, regions_needed, service_of, unreachable_because
from offline.runner import example_config, load_stack_config


def raw(stack: str) -> dict[str, Any]:
    config = load_stack_config(stack) if stack != "bunker" else example_config(stack)
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in config.items() if k.startswith("magento-dr:")}


# ------------------------------------------------------------------------------ which regions a resource needs
@pytest.mark.parametrize(
    ("token", "provider_region", "needed"),
    [
        # regional services need their provider's region only
        ("aws:autoscaling/group:Group", "eu-west-1", {"eu-west-1"}),
        ("aws:rds/cluster:Cluster", "us-west-2", {"us-west-2"}),
        ("aws:acm/certificate:Certificate", "us-east-1", {"us-east-1"}),
        # global services also need their control plane's region, whatever the provider says
        ("aws:iam/role:Role", "eu-west-1", {"eu-west-1", "us-east-1"}),
        ("aws:route53/record:Record", "eu-west-1", {"eu-west-1", "us-east-1"}),
        ("aws:route53/getZone:getZone", "eu-west-1", {"eu-west-1", "us-east-1"}),
        ("aws:cloudfront/distribution:Distribution", "eu-west-1", {"eu-west-1", "us-east-1"}),
        ("aws:s3/bucketPolicy:BucketPolicy", "us-west-2", {"us-west-2", "us-east-1"}),
        # a provider resource or a non-AWS one names no service
        ("pulumi:providers:aws", None, set()),
        ("random:index/randomPassword:RandomPassword", None, set()),
    ],
)
def test_regions_a_resource_or_lookup_needs(token: str, provider_region: str | None, needed: set[str]) -> None:
    assert regions_needed(token, provider_region) == needed


def test_the_secondary_iam_role_is_out_of_reach_with_us_east_1_dark_although_its_provider_is_in_eu_west_1() -> None:
    why = unreachable_because("aws:iam/rolePolicy:RolePolicy", "eu-west-1", {"us-east-1"})
    assert "IAM's control plane is in us-east-1" in why
    assert unreachable_because("aws:iam/rolePolicy:RolePolicy", "eu-west-1", {"eu-west-2"}) == ""
    assert unreachable_because("aws:autoscaling/group:Group", "eu-west-1", {"us-east-1"}) == ""
    assert "its provider is in us-east-1" in unreachable_because("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "us-east-1", {"us-east-1"})


def test_every_control_plane_names_its_source_and_unverified_ones_say_so() -> None:
    for service, plane in GLOBAL_CONTROL_PLANES.items():
        assert plane.source.startswith("https://docs.aws.amazon.com/"), service
        assert plane.verified or "unverified" in plane.why, service
    assert service_of("aws:route53/healthCheck:HealthCheck") == "route53"


# ------------------------------------------------------------------------------ the config that switches it on
def test_outage_mode_is_off_unless_configured() -> None:
    for stack in ("primary", "secondary", "bunker"):
        settings = parse_settings(stack, raw(stack))
        assert not settings.outage.active and settings.dns.zone_id == ""


def test_the_secondary_in_outage_mode_without_us_east_1_takes_the_zone_id_from_config() -> None:
    config = raw("secondary")
    config["outage"] = {"unavailableRegions": ["us-east-1"]}
    config["dns"]["zoneId"] = "/hostedzone/Z0123456789ABCDEFGHIJ"
    settings = parse_settings("secondary", config)
    assert settings.outage.unavailable_regions == ("us-east-1",)
    assert settings.dns.zone_id == "Z0123456789ABCDEFGHIJ"  # as `pulumi stack output hostedZoneId`, prefix or not
    assert lookup_needs_dark_region(settings)


def test_a_dark_peer_other_than_us_east_1_needs_no_zone_id() -> None:
    config = raw("primary")
    config["outage"] = {"unavailableRegions": ["eu-west-1"]}
    settings = parse_settings("primary", config)
    assert settings.outage.active and not lookup_needs_dark_region(settings)


def test_a_database_standby_needs_no_zone_id_it_declares_no_records() -> None:
    config = raw("bunker")
    config["outage"] = {"unavailableRegions": ["us-east-1"]}
    assert parse_settings("bunker", config).outage.unavailable_regions == ("us-east-1",)


@pytest.mark.parametrize(
    ("stack", "outage", "zone_id", "words"),
    [
        # the hosted-zone lookup would need Route 53's API in us-east-1
        ("secondary", {"unavailableRegions": ["us-east-1"]}, None, "dns.zoneId is required while magento-dr:outage.unavailableRegions includes us-east-1"),
        # a stack whose own region is dark cannot be changed at all
        ("secondary", {"unavailableRegions": ["eu-west-1"]}, None, "names eu-west-1, this stack's own region"),
        ("secondary", {"unavailableRegions": ["us-east-1", "us-east-1"]}, "Z1", "lists a region twice"),
        ("secondary", {"unavailableRegions": ["us-east-one"]}, "Z1", "magento-dr:outage.unavailableRegions 'us-east-one' is not an AWS region name"),
        ("secondary", {"unavailableRegions": "us-east-1"}, "Z1", "magento-dr:outage.unavailableRegions must be a list of strings"),
        ("secondary", {"darkRegions": ["us-east-1"]}, "Z1", "magento-dr:outage.darkRegions is not a known setting"),
        ("primary", {"unavailableRegions": ["eu-west-1"]}, "zone-1", "magento-dr:dns.zoneId 'zone-1' is not a Route 53 hosted zone id"),
    ],
)
def test_bad_outage_settings_stop_before_anything_is_declared(stack: str, outage: Any, zone_id: str | None, words: str) -> None:
    config = raw(stack)
    config["outage"] = outage
    if zone_id is not None:
        config["dns"]["zoneId"] = zone_id
    with pytest.raises(ConfigError) as error:
        parse_settings(stack, config)
    assert words in str(error.value)


def test_the_zone_id_error_says_where_the_id_comes_from() -> None:
    config = raw("secondary")
    config["outage"] = {"unavailableRegions": ["us-east-1"]}
    with pytest.raises(ConfigError, match=r"pulumi stack output hostedZoneId"):
        parse_settings("secondary", config)


# ------------------------------------------------------------------------------ a configured zone id outside the outage
def test_a_configured_zone_id_must_match_the_lookup_once_route53_answers() -> None:
    assert check_zone_id("", "ZLOOKED", "example.com") == "ZLOOKED"
    assert check_zone_id("ZLOOKED", "ZLOOKED", "example.com") == "ZLOOKED"
    with pytest.raises(ConfigError) as error:
        check_zone_id("ZSTALE", "ZLOOKED", "example.com")
    assert "Route 53 says the public zone example.com is ZLOOKED; set it to ZLOOKED" in str(error.value)
