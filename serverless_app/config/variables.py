"""The environment variables the stack sets on a function for what it is granted, named once
here: the variable rule refuses them in `environment`, the stack and the checks derive them."""

from __future__ import annotations

import re
from typing import Literal

# `TABLE_<KEY>_NAME`, `BUCKET_<KEY>_NAME`: the key upper-cased, `-` as `_`.
GRANTED_VARIABLE = re.compile(r"(?:TABLE|BUCKET)_[A-Z0-9_]+_NAME")


def granted_variable(kind: Literal["TABLE", "BUCKET"], key: str) -> str:
    """The variable holding the name of table or bucket `key` (`orders` -> TABLE_ORDERS_NAME)."""
    return f"{kind}_{key.upper().replace('-', '_')}_NAME"
