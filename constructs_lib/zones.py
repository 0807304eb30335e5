"""Availability zones, named two ways: by name (`us-east-1a`) or by id (`use1-az1`).

Names are per account: AWS maps `us-east-1a` to a different physical zone in each account, and
older and newer accounts see different letters in some regions. Ids name the same physical zone
in every account. The network takes either, one form per network; which zones exist in the
account is only known at plan time (`vpc.Network` checks them there). Standard library only:
the configuration checks import it without cdktf.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ZONE_ID = re.compile(r"(?P<prefix>[a-z]+\d+)-az(?P<number>\d+)")
ZONE_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d[a-z]")
# How AZ ids abbreviate the direction in a region's name (us-east-1 -> use1).
_DIRECTIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def is_zone_id(zone: str) -> bool:
    return ZONE_ID.fullmatch(zone) is not None


def zone_id_prefix(region: str) -> str:
    """The prefix of every AZ id of `region`: `us-east-1` -> `use1`, `ap-northeast-2` ->
    `apne2`, `us-gov-west-1` -> `usgw1` (the area, its further words' initials, the direction's
    abbreviation and the number)."""
    *area, direction, number = region.split("-")
    initials = "".join(word[0] for word in area[1:])
    return f"{area[0]}{initials}{_DIRECTIONS.get(direction, direction)}{number}"


def zone_id_region_problem(zone: str, region: str) -> str | None:
    """Why AZ id `zone` cannot be a zone of `region`, or None."""
    match = ZONE_ID.fullmatch(zone)
    expected = zone_id_prefix(region)
    if match is None or match["prefix"] != expected:
        return f"not an AZ id of {region} ({expected}-az1, {expected}-az2, ...)"
    return None


def mixed_forms(zones: Iterable[str]) -> bool:
    """True when `zones` holds both names and ids: which name is which id differs per account,
    so zones written both ways cannot be compared (two subnets in one zone, a NAT per zone)."""
    forms = {is_zone_id(zone) for zone in zones}
    return len(forms) > 1
