"""Lambda's concurrency rule, shared by the alias construct and the configuration's checks.
Standard library only: the configuration checks import it without cdktf.

Lambda keeps part of each account's regional "Concurrent executions" quota unreserved for the
functions without a reservation: reserved concurrency and provisioned concurrency outside a
reservation may only take what is left ("You can reserve up to the Unreserved account
concurrency value, minus 100", Lambda Developer Guide, "Configuring reserved concurrency").
New accounts get a quota of 10 or 50; there Lambda keeps the whole quota ("decreases account's
UnreservedConcurrentExecution below its minimum value of [50]" on a 50 quota), so nothing can
be reserved until the quota is raised.
"""

from __future__ import annotations

UNRESERVED_MINIMUM = 100
# A quota of 0 would let no function run.
MIN_ACCOUNT_CONCURRENCY = 1
# AWS's default quota; new accounts start lower (10 or 50) and are raised with usage.
DEFAULT_ACCOUNT_CONCURRENCY = 1000
# No documented maximum ("tens of thousands" on request): a sanity bound.
MAX_ACCOUNT_CONCURRENCY = 1_000_000


def unreserved_minimum(account_concurrency: int) -> int:
    """How many of the quota Lambda keeps unreserved."""
    return min(account_concurrency, UNRESERVED_MINIMUM)


def reservable(account_concurrency: int) -> int:
    """How much reserved (and unreserved provisioned) concurrency the quota allows in all."""
    return account_concurrency - unreserved_minimum(account_concurrency)


def why_reservable(account_concurrency: int) -> str:
    """The rule in words, for messages: `Lambda keeps 100 of 1000 unreserved`."""
    return (
        f"Lambda keeps {unreserved_minimum(account_concurrency)} of the account's "
        f"{account_concurrency} unreserved"
    )


def provisioned_within_reserved_problem(
    provisioned: int | None, reserved: int | None
) -> str | None:
    """Provisioned concurrency comes out of the function's reservation, when it has one."""
    if provisioned is not None and reserved is not None and provisioned > reserved:
        return f"at most {reserved} (reserved_concurrency)"
    return None
