"""The fast jsii message paths give exactly what jsii's own converter gives."""

from __future__ import annotations

import datetime
import json

import jsii
import pytest
from cdktf import IStringProducer, Lazy, TerraformOutput, TerraformStack
from jsii._kernel import Kernel
from jsii._kernel.providers import process
from jsii._kernel.types import (
    CompleteRequest,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    GetRequest,
    GetResponse,
    InvokeRequest,
    InvokeResponse,
    LoadResponse,
    ObjRef,
    Override,
    SetRequest,
    SetResponse,
    StaticGetRequest,
    StaticInvokeRequest,
)

from fast_synth import jsii_messages
from tests.support import synth_construct


@pytest.fixture(scope="module")
def jsii_converter():
    """The converter of this test process's jsii kernel (conftest started it)."""
    return Kernel().provider._process._serializer  # type: ignore[attr-defined]


class _NodeObject:
    """Stands for a Python object node knows: jsii writes its reference."""

    __jsii_ref__ = ObjRef(ref="cdktf.App@10001", interfaces=["cdktf.IResolvable"])


REFERENCE = ObjRef(ref="@cdktf/provider-aws.vpc.Vpc@10002")
ARGUMENTS = [
    1,
    2.5,
    "text",
    None,
    True,
    datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC),
    _NodeObject(),
    {"$jsii.map": {"key": ["value", {"$jsii.enum": "cdktf.Enum/A"}]}},
    {"$jsii.struct": {"fqn": "cdktf.Config", "data": {"count": 3}}},
]
REQUESTS = [
    CreateRequest(fqn="cdktf.App", args=ARGUMENTS),
    CreateRequest(
        fqn="Object",
        overrides=[
            Override(method="resolve", cookie="resolve"),
            Override(property="creationStack"),
        ],
        interfaces=["cdktf.IResolvable"],
    ),
    GetRequest(objref=REFERENCE, property="arn"),
    GetRequest(objref=_NodeObject.__jsii_ref__, property="node"),
    SetRequest(objref=REFERENCE, property="dependsOn", value=[_NodeObject()]),
    InvokeRequest(objref=REFERENCE, method="addOverride", args=["a.b", {"$jsii.map": {}}]),
    InvokeRequest(objref=REFERENCE, method="toString"),
    StaticInvokeRequest(fqn="cdktf.TerraformStack", method="of", args=[_NodeObject()]),
    StaticGetRequest(fqn="cdktf.Token", property="ANY_MAP"),
]


def _wire(request_dict: dict | None) -> dict:
    """What goes on the wire, read back."""
    return json.loads(json.dumps(request_dict, default=process.jdefault))


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda request: type(request).__name__)
def test_each_request_is_encoded_as_jsii_encodes_it(request_, jsii_converter):
    assert _wire(jsii_messages.encode(request_)) == _wire(jsii_converter.unstructure(request_))


def test_the_encoders_cover_the_requests_a_stack_is_built_from():
    assert set(jsii_messages.ENCODERS) == {type(request) for request in REQUESTS}


@pytest.mark.parametrize(
    "request_",
    [DeleteRequest(objref=REFERENCE), CompleteRequest(cbid="1", result="x")],
    ids=lambda request: type(request).__name__,
)
def test_other_requests_go_through_jsii(request_):
    assert jsii_messages.encode(request_) is None


def _message(text: str):
    return json.loads(text, object_hook=process.ohook)


@pytest.mark.parametrize(
    ("text", "response_type"),
    [
        ('{"ok": {"$jsii.byref": "cdktf.App@10001"}}', CreateResponse),
        (
            '{"ok": {"$jsii.byref": "x@1", "$jsii.interfaces": ["cdktf.IResolvable"]}}',
            CreateResponse,
        ),
        ('{"ok": {"value": "${TfToken[TOKEN.1]}"}}', GetResponse),
        ('{"ok": {"value": {"$jsii.byref": "cdktf.App@10001"}}}', GetResponse),
        ('{"ok": {}}', GetResponse),
        ('{"ok": {"result": [1, {"$jsii.map": {"a": "b"}}]}}', InvokeResponse),
        ('{"ok": {}}', InvokeResponse),
        ('{"ok": {}}', SetResponse),
    ],
)
def test_each_plain_answer_is_decoded_as_jsii_decodes_it(text, response_type, jsii_converter):
    ok = _message(text)["ok"]
    assert jsii_messages.decode(_message(text), response_type) == jsii_converter.structure(
        ok, response_type
    )


@pytest.mark.parametrize(
    ("text", "response_type"),
    [
        ('{"error": "boom", "stack": "at x", "name": "@jsii/kernel.RuntimeError"}', GetResponse),
        ('{"callback": {"cbid": "1", "cookie": "resolve", "invoke": null}}', InvokeResponse),
        ('{"ok": {"assembly": "cdktf", "types": 3}}', LoadResponse),
        ('{"ok": {"value": 1}}', CreateResponse),
        ('{"ok": "not an object"}', GetResponse),
    ],
)
def test_anything_else_goes_through_jsii(text, response_type):
    assert jsii_messages.decode(_message(text), response_type) is None


def test_the_tests_kernel_uses_the_fast_send():
    assert process._NodeProcess.send is jsii_messages.send


def test_an_error_from_node_is_raised_through_the_fast_send():
    from cdktf import Testing

    stack = TerraformStack(Testing.app(), "stack")
    with pytest.raises(RuntimeError, match="no-such-child"):
        stack.node.find_child("no-such-child")


@jsii.implements(IStringProducer)
class _Producer:
    def produce(self, _context: object) -> str:
        return "made in python"


def test_a_callback_into_python_works_through_the_fast_send():
    synthesized = synth_construct(
        lambda stack: TerraformOutput(stack, "out", value=Lazy.string_value(_Producer()))
    )
    assert synthesized["output"]["out"]["value"] == "made in python"
