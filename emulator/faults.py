"""Fault injection: dark regions, throttling, timeouts.

Two hooks, both installed by :func:`emulator.install`:

* **client side** - wraps ``botocore.endpoint.Endpoint._do_get_response`` so every
  in-process botocore client (``mock_aws()`` *and* real HTTP to a
  ``ThreadedMotoServer``) sees transport failures exactly as botocore reports
  them: ``EndpointConnectionError`` for a dark region, ``ConnectTimeoutError``,
  ``ReadTimeoutError`` (optionally after the service processed the call). These
  go through botocore's normal retry machinery.
* **server side** - wraps moto's ``BaseResponse.call_action`` so injected
  service errors (``Throttling``, ``InvalidGlobalClusterStateFault`` …) are
  serialised by moto in the service's own protocol, and every request is
  executed atomically (AWS APIs are atomic per request; moto is not thread-safe).
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.endpoint import Endpoint
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from moto.core.exceptions import ServiceException
from moto.core.responses import BaseResponse

from .state import STATE

_ORIGINALS: dict[str, Any] = {}
#: botocore's region for the global endpoints of Route 53 and IAM, and where their control plane runs.
GLOBAL_ENDPOINT_REGION = "aws-global"
GLOBAL_CONTROL_PLANE_REGION = "us-east-1"
#: Called with the account id before every emulated request (lazy, time-driven transitions).
REFRESHERS: list[Callable[[str], None]] = []


class InjectedServiceError(ServiceException):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _client_do_get_response(self: Endpoint, request: Any, operation_model: Any, context: Any) -> Any:
    service = operation_model.service_model.service_name
    operation = operation_model.name
    region = (context or {}).get("client_region")
    if region == GLOBAL_ENDPOINT_REGION:
        # Route 53 and IAM clients sign for "aws-global"; their control plane is in us-east-1
        # (docs/aws-assumptions.md O1), so they go dark with it.
        region = GLOBAL_CONTROL_PLANE_REGION
    url = getattr(request, "url", "")
    with STATE.lock:
        STATE.client_calls.append((service, operation, region or ""))
    if STATE.is_dark(region):
        if STATE.dark_costs_timeout:
            # A blackholed region: the connection attempt runs into the client's own timeout.
            config = (context or {}).get("client_config")
            cost = float(getattr(config, "connect_timeout", None) or 60)
            if STATE.deferred_dark_costs is not None:
                STATE.deferred_dark_costs.append(cost)
            else:
                STATE.advance(cost)
            return (None, ConnectTimeoutError(endpoint_url=url))
        return (None, EndpointConnectionError(endpoint_url=url))
    fault = STATE.take_fault(service, operation, region, ("connect", "connect_timeout", "read_timeout"))
    if fault is not None and not (fault.kind == "read_timeout" and fault.after_processing):
        if fault.kind == "connect":
            return (None, EndpointConnectionError(endpoint_url=url))
        if fault.kind == "connect_timeout":
            return (None, ConnectTimeoutError(endpoint_url=url))
        return (None, ReadTimeoutError(endpoint_url=url))
    if (service, operation) == ("lambda", "GetAccountSettings"):
        from . import awslambda

        return _ok_response(url, awslambda.account_settings(region or "us-east-1"))
    if service == "s3":
        from . import s3

        refusal = s3.judge(operation, url, dict(getattr(request, "headers", {}) or {}), _body(request), region or "us-east-1")
        if refusal is not None:
            return _error_response(url, *refusal)
    result = _ORIGINALS["do_get_response"](self, request, operation_model, context)
    if fault is not None:  # read timeout after the service processed the call
        return (None, ReadTimeoutError(endpoint_url=url))
    _stamp_date(result)
    return result


def _stamp_date(result: Any) -> None:
    """Every AWS response carries a Date header from AWS's clock (an origin server "MUST send a Date header",
    RFC 9110 section 6.6.1): in the emulator that clock is emulator time, as moto's own is the wall clock."""
    try:
        (_http, parsed), _error = result
    except (TypeError, ValueError):
        return
    if isinstance(parsed, dict):
        headers = parsed.setdefault("ResponseMetadata", {}).setdefault("HTTPHeaders", {})
        headers["date"] = formatdate(STATE.now(), usegmt=True)


def _body(request: Any) -> bytes:
    body = getattr(request, "body", b"") or b""
    if isinstance(body, str):
        return body.encode()
    return body if isinstance(body, bytes) else b""


class _RawBody:
    """The part of urllib3's response botocore reads (``stream``)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *_: Any, **__: Any) -> Any:
        yield self.body


def _ok_response(url: str, parsed: dict[str, Any]) -> Any:
    """A successful answer for an operation moto lacks, already parsed as botocore would."""
    http = AWSResponse(url, 200, HTTPHeaders(), _RawBody(b"{}"))
    return ((http, {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}}}), None)


def _error_response(url: str, code: str, message: str, status: int) -> Any:
    """What botocore's endpoint returns for a service error: (http response, parsed body), no exception."""
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    http = AWSResponse(url, status, HTTPHeaders(), _RawBody(body))
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}
    return ((http, parsed), None)


def _server_call_action(self: BaseResponse) -> Any:
    try:
        action = self._get_action()
    except Exception:  # noqa: BLE001 - let moto report its own routing problems
        return _ORIGINALS["call_action"](self)
    service = getattr(self, "service_name", "") or ""
    region = getattr(self, "region", "") or ""
    with STATE.lock:
        STATE.calls.append((service, action, region))
        account = getattr(self, "current_account", None)
        if account:
            for refresher in REFRESHERS:
                refresher(account)
        fault = STATE.take_fault(service, action, region, ("error",))
        if fault is not None:
            err = InjectedServiceError(fault.error_code, fault.message)
            _status, headers, body = self.serialized(_action_result(err))
            headers["status"] = str(fault.status)
            return fault.status, headers, body
        return _ORIGINALS["call_action"](self)


def _action_result(err: ServiceException) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(err)


def install_fault_hooks() -> None:
    if "do_get_response" not in _ORIGINALS:
        _ORIGINALS["do_get_response"] = getattr(Endpoint, "_do_get_response")  # noqa: B009 - private botocore hook
        setattr(Endpoint, "_do_get_response", _client_do_get_response)  # noqa: B010
    if "call_action" not in _ORIGINALS:
        _ORIGINALS["call_action"] = BaseResponse.call_action
        BaseResponse.call_action = _server_call_action  # type: ignore[method-assign]
