"""The writer gate (handlers/writer_gate.py): open only where the writer is or is going; any doubt closes it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from components import front_door
from handlers import writer_gate
from handlers.writer_gate import Verdict, lambda_handler, verdict

HERE = "arn:aws:rds:eu-west-1:123456789012:cluster:magento-dr-secondary-db"
THERE = "arn:aws:rds:us-east-1:123456789012:cluster:magento-dr-primary-db"
BUNKER = "arn:aws:rds:us-west-2:123456789012:cluster:magento-dr-bunker-db"
ENV = {"WRITER_GATE_GLOBAL_CLUSTER_ID": "magento-dr-primary-global-db", "WRITER_GATE_LOCAL_CLUSTER_ARN": HERE}
HEALTH_CHECK = {"httpMethod": "GET", "path": front_door.GATE_HEALTH_PATH, "headers": {"user-agent": "ELB-HealthChecker/2.0"}}


def _cluster(writer: str | None, failover: dict[str, Any] | None = None) -> dict[str, Any]:
    members = [{"DBClusterArn": arn, "IsWriter": arn == writer} for arn in (THERE, HERE, BUNKER)]
    gc: dict[str, Any] = {"GlobalClusterIdentifier": ENV["WRITER_GATE_GLOBAL_CLUSTER_ID"], "GlobalClusterMembers": members}
    if failover is not None:
        gc["FailoverState"] = failover
    return gc


def _to(target: str, status: str, source: str = THERE) -> dict[str, Any]:
    return {"Status": status, "FromDbClusterArn": source, "ToDbClusterArn": target, "IsDataLossAllowed": status == "failing-over"}


@pytest.mark.parametrize(
    ("global_cluster", "is_open", "words"),
    [
        (_cluster(HERE), True, "holds the global writer"),
        # Becoming the writer: from the promotion request on, so traffic moves while Aurora promotes.
        (_cluster(THERE, _to(HERE, "pending")), True, "becoming the writer (pending)"),
        (_cluster(THERE, _to(HERE, "failing-over")), True, "becoming the writer (failing-over)"),
        (_cluster(None, _to(HERE, "failing-over")), True, "becoming"),
        (_cluster(THERE, _to(HERE, "switching-over")), True, "becoming the writer (switching-over)"),
        # Still the writer while a switchover away from here runs: the tie is the traffic dial's.
        (_cluster(HERE, _to(THERE, "switching-over", source=HERE)), True, "holds the global writer"),
        # A cancelled operation does not make this region the writer.
        (_cluster(THERE, _to(HERE, "cancelling")), False, f"the writer is {THERE}"),
        (_cluster(THERE), False, f"the writer is {THERE}"),
        (_cluster(THERE, _to(BUNKER, "failing-over")), False, "the writer is"),
        (_cluster(BUNKER), False, f"the writer is {BUNKER}"),  # the database standby's: outside the pair
        (_cluster(None), False, "no member holds the writer"),
        (None, False, "global cluster not found"),
        ({}, False, "global cluster not found"),
    ],
)
def test_the_gate_opens_only_for_the_writer_and_the_cluster_becoming_it(global_cluster: Any, is_open: bool, words: str) -> None:
    result = verdict(global_cluster, HERE)
    assert result.open is is_open
    assert words in result.reason


def test_a_member_that_is_not_this_region_never_opens_it() -> None:
    assert not verdict(_cluster(THERE), HERE).open and verdict(_cluster(THERE), THERE).open


def test_the_response_is_the_albs_lambda_format() -> None:
    ok, closed = Verdict(True, "writer").response(), Verdict(False, "not writer").response()
    assert (ok["statusCode"], ok["statusDescription"], ok["isBase64Encoded"]) == (200, "200 OK", False)
    assert (closed["statusCode"], closed["statusDescription"]) == (503, "503 Service Unavailable")
    # The target group's matcher is 200 alone: a 503 is a failed check.
    assert front_door.GATE_MATCHER == "200" and ok["headers"]["Cache-Control"] == "no-store"


class _Rds:
    """A stand-in for this region's RDS client: answers, or raises what botocore would."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def describe_global_clusters(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"GlobalClusters": self.answer}


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "DescribeGlobalClusters")


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        ([_cluster(HERE)], 200, "holds the global writer"),
        ([_cluster(THERE)], 503, "the writer is"),
        ([], 503, "global cluster not found"),
        (_client_error("GlobalClusterNotFoundFault"), 503, "global cluster not found"),
        (_client_error("Throttling"), 503, "cannot read the global cluster: Throttling"),
        (_client_error("AccessDenied"), 503, "AccessDenied"),
        (EndpointConnectionError(endpoint_url="https://rds.eu-west-1.amazonaws.com"), 503, "EndpointConnectionError"),
    ],
)
def test_the_handler_asks_its_own_regions_api_and_fails_closed(answer: Any, status: int, words: str) -> None:
    rds = _Rds(answer)
    response = lambda_handler(HEALTH_CHECK, None, environ=ENV, rds=rds)
    assert response["statusCode"] == status and words in response["body"]
    assert rds.calls == [{"GlobalClusterIdentifier": ENV["WRITER_GATE_GLOBAL_CLUSTER_ID"]}]


def test_a_misconfigured_gate_is_closed_and_calls_nothing() -> None:
    rds = _Rds([_cluster(HERE)])
    response = lambda_handler(HEALTH_CHECK, None, environ={"WRITER_GATE_GLOBAL_CLUSTER_ID": "g"}, rds=rds)
    assert response["statusCode"] == 503 and "WRITER_GATE_LOCAL_CLUSTER_ARN unset" in response["body"]
    assert rds.calls == []


def test_the_environment_contract_is_the_components() -> None:
    assert writer_gate.ENV_VARS == (front_door.GATE_ENV_GLOBAL_CLUSTER_ID, front_door.GATE_ENV_LOCAL_CLUSTER_ARN)
    assert writer_gate.BECOMING_WRITER_STATUSES == front_door.BECOMING_WRITER_STATUSES


def test_one_request_fits_the_function_and_the_health_check_timeouts() -> None:
    # The call may wait its connect and read timeouts; it must end before Lambda stops the function, and the
    # function before the ALB gives up on the check (a slow answer is a failed check, never a late success).
    cfg = writer_gate.CLIENT_CONFIG
    attempts = cfg.retries["total_max_attempts"]
    assert attempts * (cfg.connect_timeout + cfg.read_timeout) < front_door.GATE_FUNCTION_TIMEOUT_SECONDS
    assert front_door.GATE_FUNCTION_TIMEOUT_SECONDS < front_door.GATE_CHECK_TIMEOUT_SECONDS < front_door.GATE_INTERVAL_SECONDS
