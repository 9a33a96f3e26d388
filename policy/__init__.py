"""magento-dr guardrails: the mandatory rules (rules.py) and their CrossGuard wrapper (pack.py, __main__.py).

Importing this package has no side effects; only `__main__.py`, run by the Pulumi
CLI, starts the policy server.
"""
