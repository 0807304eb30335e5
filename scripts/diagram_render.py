"""Draw a picture (`diagram_model.Picture`) with Graphviz into a PNG that records what it shows.

A picture is rewritten only when what it shows changed: each PNG carries the SHA-256 of its
Graphviz source (without the machine's install path) and of the icon set's version, so a
fresh clone on another machine, whose Graphviz or fonts would give other pixels, leaves the
committed pictures as they are.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from diagrams import Cluster, Diagram, Edge, Node
from diagrams.aws.general import Users

from scripts.diagram_model import CLIENTS, Picture, PictureNode, Place, Vpc


def _tooltip(node: PictureNode) -> str:
    return f"family: {node.family}; resources: {', '.join(node.resources)}"


def _draw_nodes(picture: Picture, place: Place, drawn: dict[str, Node]) -> None:
    for node in picture.nodes:
        if node.place == place:
            drawn[node.key] = node.kind.icon(node.label, nodeid=node.key, tooltip=_tooltip(node))


def _draw_vpc(picture: Picture, vpc: Vpc, drawn: dict[str, Node]) -> None:
    # Graphviz names a cluster after its label: tier labels carry the VPC name to stay unique.
    with Cluster(vpc.label, graph_attr={"fontsize": "14"}):
        _draw_nodes(picture, Place(vpc.address), drawn)
        subnets = [s for s in picture.subnets if s.vpc == vpc.address]
        for tier in sorted({s.tier for s in subnets}):
            with Cluster(f"{tier} subnets of {vpc.name}"):
                _draw_nodes(picture, Place(vpc.address, tier), drawn)
                for subnet in (s for s in subnets if s.tier == tier):
                    with Cluster(subnet.label):
                        _draw_nodes(picture, Place(vpc.address, tier, subnet.address), drawn)


GRAPH_ATTRIBUTES = {
    "pad": "0.4",
    "nodesep": "0.9",
    "ranksep": "1.0",
    "fontsize": "20",
    "splines": "spline",
    "labelloc": "t",
}


def render(picture: Picture, png_path: Path) -> str:
    """Write the PNG; return the Graphviz source it was drawn from (labels, clusters, edges)."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, Node] = {}
    with Diagram(
        picture.title,
        filename=str(png_path.with_suffix("")),
        outformat="png",
        show=False,
        direction="TB",
        graph_attr=GRAPH_ATTRIBUTES,
    ) as diagram:
        drawn[CLIENTS] = Users("clients (internet)", nodeid=CLIENTS)
        with Cluster(picture.region_label, graph_attr={"fontsize": "16"}):
            _draw_nodes(picture, Place(), drawn)
            for vpc in picture.vpcs:
                _draw_vpc(picture, vpc, drawn)
        for edge in picture.edges:
            tail, head = drawn[edge.tail], drawn[edge.head]
            # Into a subnet: a dotted line without arrow ("runs in"), not a call.
            style = {"style": "dotted"} if edge.into_subnet else {}
            tail.connect(head, Edge(tail, forward=not edge.into_subnet, **style))
        source: str = diagram.dot.source
    return source


# A PNG text chunk (keyword, NUL, text) holding the digest of what the picture shows.
DIGEST_KEYWORD = b"diagram-source-sha256"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Icons are files inside the installed `diagrams` package: the folder differs between machines.
_ICON_INSTALL_FOLDER = re.compile(r'image="[^"]*/resources/')


def source_digest(source: str) -> str:
    """What a picture shows: its Graphviz source, icons named without the folder the package
    is installed in, and the version of the package the icons come from."""
    portable = _ICON_INSTALL_FOLDER.sub('image="resources/', source)
    icons = f"diagrams {importlib.metadata.version('diagrams')}"
    return hashlib.sha256(f"{icons}\n{portable}".encode()).hexdigest()


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, data) of each chunk of a PNG."""
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        yield data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        offset += 12 + length


def recorded_digest(png_path: Path) -> str | None:
    """The digest a picture was drawn with, or None (no file, not a PNG, drawn without one)."""
    try:
        data = png_path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.startswith(PNG_SIGNATURE):
        return None
    for kind, content in png_chunks(data):
        keyword, _, text = content.partition(b"\0")
        if kind == b"tEXt" and keyword == DIGEST_KEYWORD:
            return text.decode("latin-1")
    return None


def with_digest(png: bytes, digest: str) -> bytes:
    """The PNG with a text chunk holding `digest`, right after its header chunk."""
    content = DIGEST_KEYWORD + b"\0" + digest.encode("latin-1")
    chunk = struct.pack(">I", len(content)) + b"tEXt" + content
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + content))
    (header_length,) = struct.unpack(">I", png[8:12])
    end_of_header = len(PNG_SIGNATURE) + 12 + header_length
    return png[:end_of_header] + chunk + png[end_of_header:]


def draw(picture: Picture, png_path: Path) -> bool:
    """Write `png_path` unless it already shows this picture; True when it was written."""
    with tempfile.TemporaryDirectory() as scratch:
        drawn = Path(scratch) / png_path.name
        digest = source_digest(render(picture, drawn))
        if recorded_digest(png_path) == digest:
            return False
        png_path.parent.mkdir(parents=True, exist_ok=True)
        # Staged next to the picture: a rename within one folder replaces it in one step.
        staged = png_path.with_name(f".{png_path.name}.staged")
        staged.write_bytes(with_digest(drawn.read_bytes(), digest))
        os.replace(staged, png_path)
    return True
