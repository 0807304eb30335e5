"""`scripts/diagram.py` with `diagram_model` and `diagram_render`: a picture per stack, drawn from
the synthesized JSON, nothing left out."""

import copy
import json
import re
import struct
import zlib
from pathlib import Path

import pytest

import main
from scripts import diagram, diagram_model, diagram_render
from scripts.diagram_model import build_picture
from scripts.diagram_render import render
from serverless_app.summary import resource_family
from tests.support import (
    CONFIG_DIR,
    REPO_ROOT,
    file_values,
    load_balancer_functions,
    name_prefix,
)

DEV_CONFIG = CONFIG_DIR / "dev.toml"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TOOLTIP = re.compile(r'tooltip="family: ([^;"]+); resources: ([^"]*)"')


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    assert main.main(["--config", str(DEV_CONFIG), "--outdir", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def document(synth_dir) -> dict:
    return json.loads((synth_dir / "stacks" / "dev" / "cdk.tf.json").read_text())


@pytest.fixture(scope="module")
def picture(document) -> diagram_model.Picture:
    return build_picture("dev", document)


@pytest.fixture(scope="module")
def source(picture, tmp_path_factory) -> str:
    """The Graphviz source of the rendered dev picture."""
    return render(picture, tmp_path_factory.mktemp("rendered") / "dev.png")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def drawn_nodes(source: str) -> list[tuple[str, list[str]]]:
    """(family, resource addresses) of every node in the Graphviz source."""
    return [(family, addresses.split(", ")) for family, addresses in _TOOLTIP.findall(source)]


def node_of(picture: diagram_model.Picture, resource_type: str) -> diagram_model.PictureNode:
    matches = [n for n in picture.nodes if n.resources[0].startswith(f"{resource_type}.")]
    assert len(matches) == 1, f"one {resource_type} node expected: {[n.key for n in matches]}"
    return matches[0]


def test_make_diagram_writes_one_png_per_stack(synth_dir, tmp_path, capsys):
    assert diagram.main(["--synth-dir", str(synth_dir), "--outdir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.png"]
    width, height = png_size(tmp_path / "dev.png")
    assert width > 1000 and height > 1000
    assert capsys.readouterr().out == f"wrote {tmp_path / 'dev.png'}\n"


def test_every_resource_family_in_the_json_appears(document, source):
    families = {family for family, _ in drawn_nodes(source)}
    assert families == {resource_family(t) for t in document["resource"]}


def test_every_resource_is_drawn_exactly_once(document, picture, source):
    declared = [f"{t}.{name}" for t, items in document["resource"].items() for name in items]
    drawn = [address for _, addresses in drawn_nodes(source) for address in addresses]
    vpcs = [f"aws_vpc.{name}" for name in document["resource"]["aws_vpc"]]
    for vpc in picture.vpcs:  # a VPC is the cluster around its subnets, not a node
        assert f'label="{vpc.label}"' in source
    assert sorted(drawn + vpcs) == sorted(declared)


def test_every_node_has_an_existing_aws_icon(source):
    icons = re.findall(r'image="([^"]+)"', source)
    assert len(icons) == len(drawn_nodes(source)) + 1  # + the clients
    assert all(Path(icon).is_file() for icon in icons)


def test_the_source_draws_every_edge_of_the_picture(picture, source):
    drawn = {(t, h): attrs for t, h, attrs in re.findall(r"(\w+) -> (\w+) \[([^\]]*)\]", source)}
    assert set(drawn) == {(e.tail, e.head) for e in picture.edges}
    for edge in picture.edges:
        attributes = drawn[(edge.tail, edge.head)]
        # "Runs in this subnet" is a dotted line without arrow; everything else points.
        assert ("dir=none" in attributes and "style=dotted" in attributes) == edge.into_subnet
        assert ("dir=forward" in attributes) != edge.into_subnet


def function_nodes(
    picture: diagram_model.Picture, document: dict
) -> list[diagram_model.PictureNode]:
    """One node per Lambda function of the stack (dev has four)."""
    nodes = [n for n in picture.nodes if n.resources[0].startswith("aws_lambda_function.")]
    assert len(nodes) == len(document["resource"]["aws_lambda_function"]) == 4
    return nodes


def routed_keys() -> set[str]:
    """The keys of dev's functions some route reaches (the others: triggers only)."""
    return {route["function"] for route in file_values(DEV_CONFIG)["routes"]}


def function_key(document: dict, node: diagram_model.PictureNode) -> str:
    body = document["resource"]["aws_lambda_function"][node.resources[0].split(".")[1]]
    return str(body["function_name"]).removeprefix(f"{name_prefix(DEV_CONFIG)}-")


def test_every_function_runs_in_the_private_subnets_behind_the_api_and_load_balancer(
    picture, document
):
    api = node_of(picture, "aws_api_gateway_rest_api")
    load_balancer = node_of(picture, "aws_lb")
    private = [s.address for s in picture.subnets if s.tier == "private"]
    edges = {(e.tail, e.head) for e in picture.edges}
    assert load_balancer.place.tier == "public"
    assert set(picture.entry_points) == {api.key, load_balancer.key}
    assert ("clients", api.key) in edges
    aliases = [n for n in picture.nodes if n.resources[0].startswith("aws_lambda_alias.")]
    # A mapping is drawn with the alias it invokes: an arrow from the alias to its queue.
    queues = [
        node
        for node in nodes_of(picture, "aws_sqs_queue")
        if node.resources[0].startswith("aws_sqs_queue.queue-")
    ]
    for function in function_nodes(picture, document):
        assert function.place.tier == "private" and function.place.subnet is None
        assert {(function.key, diagram_model._node_key(s)) for s in private} <= edges
        # Callers invoke the function's live alias (what CodeDeploy moves), not the function:
        # the API, or the event source mapping of a queue's consumer.
        (alias,) = [a for a in aliases if (a.key, function.key) in edges]
        if function_key(document, function) in routed_keys():
            assert (api.key, alias.key) in edges
        else:
            assert any((alias.key, queue.key) in edges for queue in queues), function.key
        assert (load_balancer.key, function.key) not in edges
        # The invoke permission points back: one arrow.
        assert (function.key, api.key) not in edges


def test_every_function_uses_the_tables_and_buckets_it_is_granted(picture, document):
    node_key = {address: node.key for node in picture.nodes for address in node.resources}
    edges = {(e.tail, e.head) for e in picture.edges}
    granted = 0
    for function in function_nodes(picture, document):
        name = function.resources[0].removeprefix("aws_lambda_function.")
        body = document["resource"]["aws_lambda_function"][name]
        variables = body.get("environment", {"variables": {}})["variables"]
        for variable, value in variables.items():
            if variable.startswith(("TABLE_", "BUCKET_")) and variable.endswith("_NAME"):
                address = ".".join(value.removeprefix("${").split(".")[:2])
                assert (function.key, node_key[address]) in edges, (name, variable)
                granted += 1
    assert granted >= 2  # hello's table and bucket at least


def test_subnet_tiers_come_from_the_routes_and_agree_with_the_tags(picture, document):
    tags = {
        f"aws_subnet.{name}": body["tags"]["Tier"]
        for name, body in document["resource"]["aws_subnet"].items()
    }
    assert {s.address: s.tier for s in picture.subnets} == tags


@pytest.fixture(scope="module")
def nat_picture(tmp_path_factory) -> diagram_model.Picture:
    """dev with one NAT gateway (the shipped environments have none)."""
    from serverless_app.config import load_config
    from tests.support import synth_config

    text = DEV_CONFIG.read_text()
    assert 'nat_gateways = "none"' in text
    path = tmp_path_factory.mktemp("nat") / "dev.toml"
    path.write_text(text.replace('nat_gateways = "none"', 'nat_gateways = "single"'))
    return build_picture("dev", synth_config(load_config(path)))


def test_nat_gateways_sit_in_public_subnets_and_endpoints_in_the_vpc(nat_picture):
    picture = nat_picture
    public = {s.address for s in picture.subnets if s.tier == "public"}
    nats = [n for n in picture.nodes if n.resources[0].startswith("aws_nat_gateway.")]
    endpoints = [n for n in picture.nodes if n.resources[0].startswith("aws_vpc_endpoint.")]
    assert nats and all(n.place.subnet in public for n in nats)
    assert endpoints and all(
        n.place == diagram_model.Place(picture.vpcs[0].address) for n in endpoints
    )


def test_parts_are_listed_on_the_resource_they_belong_to(picture, document):
    api = node_of(picture, "aws_api_gateway_rest_api")
    assert any(a.startswith("aws_api_gateway_stage.") for a in api.resources)
    assert "stage" in api.label
    owner = {address: node.resources[0] for node in picture.nodes for address in node.resources}
    for name, association in document["resource"]["aws_route_table_association"].items():
        route_table = association["route_table_id"].removeprefix("${").removesuffix(".id}")
        assert owner[f"aws_route_table_association.{name}"] == route_table


def test_a_new_resource_type_is_drawn_without_changing_the_script(document):
    grown = copy.deepcopy(document)
    function = next(iter(grown["resource"]["aws_lambda_function"]))
    grown["resource"]["aws_ssm_parameter"] = {"flag": {"name": "/dev/flag", "type": "String"}}
    grown["resource"]["aws_lambda_function_event_invoke_config"] = {
        "retries": {"function_name": f"${{aws_lambda_function.{function}.function_name}}"}
    }
    picture = build_picture("dev", grown)
    parameter = next(n for n in picture.nodes if "aws_ssm_parameter.flag" in n.resources)
    assert (parameter.family, parameter.kind) == ("ssm", diagram_model.FAMILY_KIND)
    assert "ssm parameter" in parameter.label
    owner = next(
        n for n in picture.nodes if "aws_lambda_function_event_invoke_config.retries" in n.resources
    )
    assert owner.resources[0] == f"aws_lambda_function.{function}"
    assert "event invoke config" in owner.label.replace("\n", " ")


def test_rendering_is_deterministic(picture, tmp_path):
    render(picture, tmp_path / "first.png")
    render(picture, tmp_path / "second.png")
    assert (tmp_path / "first.png").read_bytes() == (tmp_path / "second.png").read_bytes()


def png_chunk(kind: bytes, content: bytes) -> bytes:
    crc = zlib.crc32(kind + content)
    return struct.pack(">I", len(content)) + kind + content + struct.pack(">I", crc)


def one_white_pixel() -> bytes:
    """A PNG of other pixels than any diagram: what another machine's Graphviz might draw."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    return b"".join(
        (
            PNG_SIGNATURE,
            png_chunk(b"IHDR", header),
            png_chunk(b"IDAT", zlib.compress(b"\0\xff\xff\xff")),
            png_chunk(b"IEND", b""),
        )
    )


def test_each_committed_picture_shows_its_stack_as_synthesized_now(stacks, tmp_path):
    """`make diagram` on a fresh clone rewrites nothing: every shipped stack's PNG carries the
    digest of what it shows. A change to a stack fails here until `make diagram` is run."""
    # The pictures of the shipped example; an environment of your own has none until drawn.
    pictured = sorted(path.stem for path in (REPO_ROOT / "docs").glob("*.png"))
    assert pictured and set(pictured) <= set(stacks)
    for env in pictured:
        source = render(build_picture(env, stacks[env]), tmp_path / f"{env}.png")
        committed = REPO_ROOT / "docs" / f"{env}.png"
        assert diagram_render.recorded_digest(committed) == diagram_render.source_digest(source), (
            f"{committed} is out of date: run `make diagram`"
        )


def test_a_picture_that_shows_the_stack_is_left_byte_for_byte(synth_dir, picture, tmp_path):
    """Another Graphviz or other fonts draw other pixels: a PNG recording the same source
    is kept as it is, one recording another source (or none) is redrawn."""
    source = render(picture, tmp_path / "fresh.png")
    foreign_pixels = diagram_render.with_digest(
        one_white_pixel(), diagram_render.source_digest(source)
    )
    outdir = tmp_path / "docs"
    outdir.mkdir()
    (outdir / "dev.png").write_bytes(foreign_pixels)
    assert diagram.main(["--synth-dir", str(synth_dir), "--outdir", str(outdir)]) == 0
    assert (outdir / "dev.png").read_bytes() == foreign_pixels
    stale = diagram_render.with_digest((tmp_path / "fresh.png").read_bytes(), "0" * 64)
    (outdir / "dev.png").write_bytes(stale)
    assert diagram.main(["--synth-dir", str(synth_dir), "--outdir", str(outdir)]) == 0
    redrawn = (outdir / "dev.png").read_bytes()
    assert redrawn != stale
    assert diagram_render.recorded_digest(outdir / "dev.png") == diagram_render.source_digest(
        source
    )
    assert sorted(path.name for path in outdir.iterdir()) == ["dev.png"]


def test_the_digest_ignores_where_the_icons_are_installed(source):
    moved = re.sub(r'image="[^"]*/resources/', 'image="/elsewhere/site-packages/resources/', source)
    assert moved != source
    assert diagram_render.source_digest(moved) == diagram_render.source_digest(source)
    assert diagram_render.source_digest(source.replace("hello-dev", "hello-qa")) != (
        diagram_render.source_digest(source)
    )


def test_missing_synth_output_is_one_line_and_exit_2(tmp_path, capsys):
    assert diagram.main(["--synth-dir", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert error == f"{tmp_path / 'nowhere' / 'manifest.json'}: not found; run `make synth` first\n"


def test_unknown_stack_is_one_line_and_exit_2(synth_dir, tmp_path, capsys):
    assert diagram.main(["--synth-dir", str(synth_dir), "--outdir", str(tmp_path), "qa"]) == 2
    assert capsys.readouterr().err == (
        f"{synth_dir / 'manifest.json'}: stacks: no stack named qa (found: dev)\n"
    )
    assert not list(tmp_path.iterdir())


def test_missing_graphviz_is_one_line_and_exit_2(synth_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert diagram.main(["--synth-dir", str(synth_dir), "--outdir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "Graphviz `dot` not found on PATH: apt-get install graphviz\n"


def nodes_of(picture: diagram_model.Picture, resource_type: str) -> list[diagram_model.PictureNode]:
    return [n for n in picture.nodes if n.resources[0].startswith(f"{resource_type}.")]


def test_alarms_page_the_topic_and_roll_releases_back(picture, document):
    edges = {(e.tail, e.head) for e in picture.edges}
    topic = node_of(picture, "aws_sns_topic")
    alarms = nodes_of(picture, "aws_cloudwatch_metric_alarm")
    # dev: five per function (hello, escape, orders-api, worker) and one per routed function
    # for its API routes (not the worker), one for escape's target group (the others are not
    # on the load balancer), the API's latency, the load balancer's own 5XX and two for the
    # orders queue (its oldest message, its dead-letter queue).
    assert len(alarms) == len(document["resource"]["aws_cloudwatch_metric_alarm"]) == 28
    assert all((alarm.key, topic.key) in edges for alarm in alarms)
    labels = {alarm.label.split("\n")[0] for alarm in alarms}
    assert f"{name_prefix(DEV_CONFIG)}-hello-errors" in labels
    assert node_of(picture, "aws_cloudwatch_dashboard").kind.title == "dashboard"
    groups = nodes_of(picture, "aws_codedeploy_deployment_group")
    application = node_of(picture, "aws_codedeploy_app")
    assert len(groups) == 4
    on_load_balancer = load_balancer_functions(DEV_CONFIG)
    bodies = document["resource"]["aws_codedeploy_deployment_group"]
    for group in groups:
        assert (group.key, application.key) in edges
        name = bodies[group.resources[0].split(".")[1]]["deployment_group_name"]
        key = name.removeprefix(f"{name_prefix(DEV_CONFIG)}-")
        # The group's rollback alarms: its function's errors, duration and 5XX answers, its API
        # routes' 5XX if a route reaches it, its target group's 5XX if the function is on the
        # load balancer.
        rollback = sum((group.key, alarm.key) in edges for alarm in alarms)
        assert rollback == 3 + (key in routed_keys()) + (key in on_load_balancer), key


def test_callers_reach_every_function_through_its_live_alias(picture, document):
    """The API reaches every function a route reaches; the load balancer exactly those with a
    public route."""
    edges = {(e.tail, e.head) for e in picture.edges}
    aliases = nodes_of(picture, "aws_lambda_alias")
    functions = nodes_of(picture, "aws_lambda_function")
    assert len(aliases) == len(functions) == 4
    api, load_balancer = node_of(picture, "aws_api_gateway_rest_api"), node_of(picture, "aws_lb")
    on_load_balancer = load_balancer_functions(DEV_CONFIG)
    assert on_load_balancer == {"escape"}
    bodies = document["resource"]["aws_lambda_function"]
    for function in functions:
        (alias,) = [a for a in aliases if (a.key, function.key) in edges]
        assert alias.label.split("\n")[0] == "live"
        name = bodies[function.resources[0].split(".")[1]]["function_name"]
        key = name.removeprefix(f"{name_prefix(DEV_CONFIG)}-")
        assert ((api.key, alias.key) in edges) == (key in routed_keys()), key
        assert ((load_balancer.key, alias.key) in edges) == (key in on_load_balancer), key


@pytest.fixture(scope="module")
def operations_picture() -> diagram_model.Picture:
    """Every operating option on (tests/config/operations.toml): domain, secrets, no NAT."""
    from serverless_app.config import load_config
    from tests.support import REPO_ROOT, synth_config

    config = load_config(REPO_ROOT / "tests" / "config" / "operations.toml")
    return build_picture("ops", synth_config(config))


def test_a_configured_domain_is_drawn_with_its_certificate_and_record(operations_picture):
    picture = operations_picture
    edges = {(e.tail, e.head) for e in picture.edges}
    domain = node_of(picture, "aws_api_gateway_domain_name")
    certificate = node_of(picture, "aws_acm_certificate")
    records = nodes_of(picture, "aws_route53_record")
    assert domain.label.split("\n")[0] == "api.example.com"
    assert domain.key in picture.entry_points and ("clients", domain.key) in edges
    assert (domain.key, certificate.key) in edges
    assert (node_of(picture, "aws_lb").key, certificate.key) in edges  # the HTTPS listener
    assert any((record.key, domain.key) in edges for record in records)  # the alias record
    # The validation waits for the CNAME records ACM asked for.
    assert any((certificate.key, record.key) in edges for record in records)
    assert {record.family for record in records} == {"route53"}


def test_secrets_without_nat_draw_the_ssm_interface_endpoint(operations_picture):
    endpoints = nodes_of(operations_picture, "aws_vpc_endpoint")
    assert any("Interface" in n.kind.title or "Interface" in n.label for n in endpoints)
    assert any("ssm" in n.label for n in endpoints), [n.label for n in endpoints]
