"""Run a command where file modes apply: root ignores them unless it drops its override."""

from __future__ import annotations

import os

# CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH let root read and write whatever the modes say.
DROP_OVERRIDES = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def unprivileged(command: list[str]) -> list[str]:
    """`command` as given for a normal user; for root, without the capabilities to bypass
    file modes, so a folder with mode 0555 or 0000 behaves for it as for anyone."""
    return [*DROP_OVERRIDES, *command] if os.geteuid() == 0 else command
