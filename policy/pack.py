"""The guardrails as CrossGuard policies: thin wrappers around `policy.rules`, one policy per rule.

Building the policies has no side effects; `__main__.py` hands them to
`PolicyPack`, which starts the analyzer server. pulumi-policy is installed only
in the pack's own venv (policy/requirements.txt), hence the ignore below for the
project-wide type check.
"""

from __future__ import annotations

from pulumi_policy import (  # type: ignore[import-not-found, unused-ignore]
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import RESOURCE_RULES, STACK_RULES, ResourceRule, StackRule, Subject

PACK_NAME = "magento-dr-guardrails"


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    """Runs before each resource is created or updated, so a mandatory violation stops `pulumi up` in time."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        # args.props is the SDK's unknown-checking proxy; passed through untouched (see rules.py).
        subject = Subject(type=args.resource_type, name=args.name, urn=args.urn, props=args.props, protect=bool(args.opts.protect))
        for message in rule.violations(subject):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def _subject(resource: PolicyResource) -> Subject:
    return Subject(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=resource.props,
        protect=bool(resource.opts.protect),
        dependencies=frozenset(d.urn for d in resource.dependencies),
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    """Runs over the whole stack: in preview before anything changes, in `up` once the update is done."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        subjects = [_subject(r) for r in args.resources]
        for subject, message in rule.violations(subjects):
            report_violation(message, subject.urn)

    return StackValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [*(resource_policy(r) for r in RESOURCE_RULES), *(stack_policy(r) for r in STACK_RULES)]
