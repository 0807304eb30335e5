"""The environment variables the stack sets on a function for what it is granted, named once
here: the variable rule refuses them in `environment`, the stack and the checks derive them."""

from __future__ import annotations

import re
from typing import Literal

# `TABLE_<KEY>_NAME`, `BUCKET_<KEY>_NAME`, `QUEUE_<KEY>_URL`, `TOPIC_<KEY>_ARN`: the key
# upper-cased, `-` as `_`.
GrantedKind = Literal["TABLE", "BUCKET", "QUEUE", "TOPIC"]
_ATTRIBUTE: dict[str, str] = {"TABLE": "NAME", "BUCKET": "NAME", "QUEUE": "URL", "TOPIC": "ARN"}
GRANTED_VARIABLE = re.compile(
    "|".join(f"{kind}_[A-Z0-9_]+_{attribute}" for kind, attribute in _ATTRIBUTE.items())
)


def granted_variable(kind: GrantedKind, key: str) -> str:
    """The variable holding the name (URL, ARN) of what `key` names (`orders` ->
    TABLE_ORDERS_NAME, QUEUE_ORDERS_URL)."""
    return f"{kind}_{key.upper().replace('-', '_')}_{_ATTRIBUTE[kind]}"
