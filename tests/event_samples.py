"""AWS's documented event samples (tests/events/), and what an event `make serve` builds must
share with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"


def sample(name: str) -> Any:
    """The sample `tests/events/<name>.json`."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def shape(value: object) -> object:
    """Keys and value types, recursively: what two events of the same kind share."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__
