"""What a runtime's own interpreter says about a `.pyc`, to check the packager's byte-code
against CPython rather than against the packager."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

# Run by the runtime's interpreter: the header fields PEP 552 defines, and the code object's
# file name, for one .pyc and its source (paths on argv).
_READ_PYC = """
import importlib.util, json, marshal, sys
pyc, source = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
print(json.dumps({
    "magic_matches": pyc[:4] == importlib.util.MAGIC_NUMBER,
    "flags": int.from_bytes(pyc[4:8], "little"),
    "hash_matches": pyc[8:16] == importlib.util.source_hash(source),
    "filename": marshal.loads(pyc[16:]).co_filename,
}))
"""
# PEP 552: bit 0 hash-based, bit 1 check_source. Unchecked hash: 0b01.
UNCHECKED_HASH_FLAGS = 0b01


def pyc_facts(interpreter: Path, pyc: bytes, source: bytes, scratch: Path) -> dict:
    """What `interpreter` reads in `pyc`, the byte-code of `source`."""
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "file.pyc").write_bytes(pyc)
    (scratch / "file.py").write_bytes(source)
    result = subprocess.run(
        [
            str(interpreter),
            "-I",
            "-c",
            _READ_PYC,
            str(scratch / "file.pyc"),
            str(scratch / "file.py"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)
