"""Lambda's GetAccountSettings, which moto lacks, from moto's own functions.

AWS: `AccountLimit.ConcurrentExecutions` is "the maximum number of simultaneous function executions",
`UnreservedConcurrentExecutions` that "minus the capacity that's reserved for individual functions with
PutFunctionConcurrency". The limit is moto's own knob, MOTO_LAMBDA_CONCURRENCY_QUOTA (which its
PutFunctionConcurrency enforces too), else AWS's default of 1,000; a new account plays 10 or 50.
https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_CONCURRENCY_LIMIT = 1000
ACCOUNT_ID = "123456789012"


def account_settings(region: str) -> dict[str, Any]:
    from moto.awslambda.models import lambda_backends

    limit = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", DEFAULT_CONCURRENCY_LIMIT))
    functions = list(lambda_backends[ACCOUNT_ID][region].list_functions())
    reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
    return {
        "AccountLimit": {
            "TotalCodeSize": 80 * 1024**3,
            "CodeSizeUnzipped": 250 * 1024**2,
            "CodeSizeZipped": 50 * 1024**2,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - reserved,
        },
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)},
    }
