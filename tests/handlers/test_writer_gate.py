"""The writer gate (handlers/writer_gate.py): open only where the writer is or is going; any doubt about its own region
closes it, and a view the peer region contradicts with a later activation (a region back from an outage, G6) closes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from components import front_door
from handlers import writer_gate
from handlers.activation import PeerView, activation_parameter
from handlers.writer_gate import GateClients, Verdict, lambda_handler, verdict

HERE = "arn:aws:rds:eu-west-1:123456789012:cluster:magento-dr-secondary-db"
THERE = "arn:aws:rds:us-east-1:123456789012:cluster:magento-dr-primary-db"
BUNKER = "arn:aws:rds:us-west-2:123456789012:cluster:magento-dr-bunker-db"
ENV = {"WRITER_GATE_GLOBAL_CLUSTER_ID": "magento-dr-primary-global-db", "WRITER_GATE_LOCAL_CLUSTER_ARN": HERE, "WRITER_GATE_PEER_REGION": "us-east-1"}
RECORD = activation_parameter(ENV["WRITER_GATE_GLOBAL_CLUSTER_ID"])
EARLIER, LATER = 1_700_000_000.0, 1_700_000_600.0
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


def _peer(writer: str | None, activated_at: float | None = None) -> PeerView:
    return PeerView("us-east-1", writer, activated_at)


@pytest.mark.parametrize(
    ("global_cluster", "peer", "own_activated_at", "is_open", "words"),
    [
        # The peer agrees, names no writer, or does not answer (its outage: the failover's ordinary case): the view stands.
        (_cluster(HERE), _peer(HERE, LATER), EARLIER, True, "holds the global writer"),
        (_cluster(HERE), _peer("", LATER), None, True, "holds the global writer"),
        (_cluster(HERE), _peer(None), None, True, "holds the global writer"),
        # The old primary back from an outage, its API still naming its own cluster: the peer names itself and was activated
        # after this region (or this region never was, the first primary): stale, closed.
        (_cluster(HERE), _peer(THERE, LATER), EARLIER, False, "stale view: us-east-1's RDS API names"),
        (_cluster(HERE), _peer(THERE, LATER), None, False, "after this region (never)"),
        # The region that stayed up, facing that stale peer: it was activated last, so its view stands.
        (_cluster(HERE), _peer(THERE, EARLIER), LATER, True, "holds the global writer"),
        # A peer never activated (or its record unreadable) cannot outrank a view.
        (_cluster(HERE), _peer(THERE, None), None, True, "holds the global writer"),
        # Becoming the writer is Aurora's own operation under way: the peer is not asked.
        (_cluster(THERE, _to(HERE, "failing-over")), _peer(THERE, LATER), EARLIER, True, "becoming the writer"),
        # A stale view never opens a region that is not the writer in its own view either.
        (_cluster(THERE), _peer(THERE, LATER), EARLIER, False, f"the writer is {THERE}"),
    ],
)
def test_a_view_the_peer_contradicts_with_a_later_activation_closes_the_gate(
    global_cluster: dict[str, Any], peer: PeerView, own_activated_at: float | None, is_open: bool, words: str
) -> None:
    result = verdict(global_cluster, HERE, peer, own_activated_at)
    assert result.open is is_open
    assert words in result.reason


def test_the_response_is_the_albs_lambda_format() -> None:
    ok, closed = Verdict(True, "writer").response(), Verdict(False, "not writer").response()
    assert (ok["statusCode"], ok["statusDescription"], ok["isBase64Encoded"]) == (200, "200 OK", False)
    assert (closed["statusCode"], closed["statusDescription"]) == (503, "503 Service Unavailable")
    # The target group's matcher is 200 alone: a 503 is a failed check.
    assert front_door.GATE_MATCHER == "200" and ok["headers"]["Cache-Control"] == "no-store"


class _Rds:
    """A stand-in for one region's RDS client: answers, or raises what botocore would."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def describe_global_clusters(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"GlobalClusters": self.answer}


class _Ssm:
    """A stand-in for one region's SSM client holding the activation record (written at `written`; None: absent)."""

    def __init__(self, written: float | Exception | None) -> None:
        self.written = written
        self.calls: list[dict[str, Any]] = []

    def get_parameter(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if isinstance(self.written, Exception):
            raise self.written
        if self.written is None:
            raise ClientError({"Error": {"Code": "ParameterNotFound", "Message": "x"}}, "GetParameter")
        return {"Parameter": {"Name": kwargs["Name"], "Value": HERE, "LastModifiedDate": datetime.fromtimestamp(self.written, UTC)}}


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "DescribeGlobalClusters")


def _clients(local: Any, peer: Any = None, own: float | Exception | None = None, peers: float | Exception | None = None) -> GateClients:
    return GateClients(_Rds(local), _Ssm(own), _Rds([_cluster(HERE)] if peer is None else peer), _Ssm(peers))


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
    clients = _clients(answer)
    response = lambda_handler(HEALTH_CHECK, None, environ=ENV, clients=clients)
    assert response["statusCode"] == status and words in response["body"]
    assert clients.rds.calls == [{"GlobalClusterIdentifier": ENV["WRITER_GATE_GLOBAL_CLUSTER_ID"]}]
    # The peer is asked only while this region's own view names its cluster the writer; the records only on disagreement.
    assert len(clients.peer_rds.calls) == (1 if status == 200 else 0)
    assert clients.ssm.calls == clients.peer_ssm.calls == []


UNREACHABLE = ConnectTimeoutError(endpoint_url="https://rds.us-east-1.amazonaws.com")


@pytest.mark.parametrize(
    ("peer", "own", "peers", "status", "words"),
    [
        # The region that stayed up while the peer is dark (the failover's ordinary case): open, nothing else read.
        (UNREACHABLE, None, None, 200, "holds the global writer"),
        (_client_error("Throttling"), None, None, 200, "holds the global writer"),
        # Back from an outage with a stale view: the peer names itself and was activated since.
        ([_cluster(THERE)], EARLIER, LATER, 503, "stale view"),
        ([_cluster(THERE)], None, LATER, 503, "after this region (never)"),
        # The region activated last, asked by a stale peer's disagreement: open.
        ([_cluster(THERE)], LATER, EARLIER, 200, "holds the global writer"),
        ([_cluster(THERE)], None, None, 200, "holds the global writer"),
        # The peer's record unreadable: nothing newer from the peer. This region's own unreadable: failure to know, closed.
        ([_cluster(THERE)], EARLIER, _client_error("Throttling"), 200, "holds the global writer"),
        ([_cluster(THERE)], _client_error("Throttling"), LATER, 503, "activation record is unreadable: Throttling"),
    ],
)
def test_while_it_holds_the_writer_the_gate_asks_the_peer_and_on_disagreement_the_activation_records(
    peer: Any, own: Any, peers: Any, status: int, words: str
) -> None:
    clients = _clients([_cluster(HERE)], peer, own, peers)
    response = lambda_handler(HEALTH_CHECK, None, environ=ENV, clients=clients)
    assert response["statusCode"] == status and words in response["body"]
    assert clients.peer_rds.calls == [{"GlobalClusterIdentifier": ENV["WRITER_GATE_GLOBAL_CLUSTER_ID"]}]
    disagree = isinstance(peer, list)
    assert clients.ssm.calls == ([{"Name": RECORD}] if disagree else [])
    assert clients.peer_ssm.calls == ([{"Name": RECORD}] if disagree and not isinstance(own, Exception) else [])


def test_a_misconfigured_gate_is_closed_and_calls_nothing() -> None:
    clients = _clients([_cluster(HERE)])
    response = lambda_handler(HEALTH_CHECK, None, environ={"WRITER_GATE_GLOBAL_CLUSTER_ID": "g"}, clients=clients)
    assert response["statusCode"] == 503 and "WRITER_GATE_LOCAL_CLUSTER_ARN, WRITER_GATE_PEER_REGION unset" in response["body"]
    assert clients.rds.calls == clients.peer_rds.calls == []


def test_the_environment_contract_is_the_components() -> None:
    assert writer_gate.ENV_VARS == (front_door.GATE_ENV_GLOBAL_CLUSTER_ID, front_door.GATE_ENV_LOCAL_CLUSTER_ARN, front_door.GATE_ENV_PEER_REGION)
    assert writer_gate.BECOMING_WRITER_STATUSES == front_door.BECOMING_WRITER_STATUSES


def test_the_usual_check_fits_the_function_and_the_health_check_timeouts() -> None:
    # Its own region's call and the peer's may each wait their connect and read timeouts; together they must end before
    # Lambda stops the function, and the function before the ALB gives up on the check (a slow answer is a failed check,
    # never a late success). A dark peer costs its connect timeout on every check of the region that took over.
    def worst(cfg: Any) -> float:
        return float(cfg.retries["total_max_attempts"] * (cfg.connect_timeout + cfg.read_timeout))

    assert worst(writer_gate.CLIENT_CONFIG) + worst(writer_gate.PEER_CLIENT_CONFIG) < front_door.GATE_FUNCTION_TIMEOUT_SECONDS
    assert front_door.GATE_FUNCTION_TIMEOUT_SECONDS < front_door.GATE_CHECK_TIMEOUT_SECONDS < front_door.GATE_INTERVAL_SECONDS
