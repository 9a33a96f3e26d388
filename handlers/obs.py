"""Observability: structured JSON logs and a CloudWatch metric buffer (Powertools-shaped, no dependency)."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)))


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def get_logger(level: str = "INFO", service: str = "magento-dr-failover") -> logging.Logger:
    logger = logging.getLogger("magento_dr.failover")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(service))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    return logger


# Published on every evaluation: 1 where this region's cluster holds the global
# writer, else 0. The stacks alarm on it (components/contracts.py holds the same
# name; tests/test_contracts.py keeps the two equal) and Route 53 follows that
# alarm, so traffic follows the writer.
WRITER_METRIC = "RegionHoldsWriter"
# Published (1) by every evaluation that found another holder's live failover lease in its way.
# A stack alarm fires when runs stay blocked longer than any legitimate holder works
# (components/failover_automation.py; tests/test_contracts.py keeps the names equal).
LEASE_BLOCKED_METRIC = "FailoverLeaseBlocked"


@dataclass
class Metrics:
    """Buffered metrics; flushed with one ``PutMetricData`` call per invocation."""

    dimensions: dict[str, str]
    data: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str = "Count", **extra_dims: str) -> None:
        dims = {**self.dimensions, **extra_dims}
        self.data.append(
            {
                "MetricName": name,
                "Value": float(value),
                "Unit": unit,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            }
        )
