"""A faster encoder and decoder for the jsii messages a synth sends by the hundred.

Every jsii call from Python (create an object, read or set a property, call a method) is one
JSON line to the node kernel and one back. jsii's `_NodeProcess.send` turns the request, an
attrs object, into a dict with a general-purpose `cattrs` converter, and the answer back the
same way: about 60 microseconds of Python per call, a tenth of a synth's per-environment cost.
For the six requests a stack is built from, and for the plain answers to them, `send` below
builds and reads the same dicts directly; any other request, an error, a callback or an
answer of another shape goes through jsii's own code unchanged. jsii is pinned in
Pipfile.lock; tests/test_jsii_messages.py checks both directions against jsii's converter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jsii._kernel.providers import process
from jsii._kernel.types import (
    CreateRequest,
    CreateResponse,
    GetRequest,
    GetResponse,
    InvokeRequest,
    InvokeResponse,
    ObjRef,
    Override,
    SetRequest,
    SetResponse,
    StaticGetRequest,
    StaticInvokeRequest,
)
from jsii._stack_trace import is_enabled as host_stack_traces_enabled
from jsii.errors import ErrorType, JavaScriptError, JSIIError

JSII_SEND = process._NodeProcess.send


# jsii's own encoding of an object reference (with its interfaces, when it has any).
_reference: Callable[[ObjRef], dict[str, Any]] = process._unstructure_ref


def _override(override: Override) -> dict[str, Any]:
    return {"method": override.method, "property": override.property, "cookie": override.cookie}


def _create(request: CreateRequest) -> dict[str, Any]:
    return {
        "fqn": request.fqn,
        "args": request.args,
        "overrides": [_override(override) for override in request.overrides],
        "interfaces": request.interfaces,
        "api": "create",
    }


def _get(request: GetRequest) -> dict[str, Any]:
    return {"objref": _reference(request.objref), "property": request.property}


def _set(request: SetRequest) -> dict[str, Any]:
    objref = _reference(request.objref)
    return {"objref": objref, "property": request.property, "value": request.value}


def _invoke(request: InvokeRequest) -> dict[str, Any]:
    objref = _reference(request.objref)
    return {"objref": objref, "method": request.method, "args": request.args}


def _static_invoke(request: StaticInvokeRequest) -> dict[str, Any]:
    return {"fqn": request.fqn, "method": request.method, "args": request.args}


def _static_get(request: StaticGetRequest) -> dict[str, Any]:
    return {"fqn": request.fqn, "property": request.property}


# The request types a synth sends by the hundred, each with its dict and its `api` name.
ENCODERS: dict[type, tuple[Callable[[Any], dict[str, Any]], str]] = {
    CreateRequest: (_create, "create"),
    GetRequest: (_get, "get"),
    SetRequest: (_set, "set"),
    InvokeRequest: (_invoke, "invoke"),
    StaticInvokeRequest: (_static_invoke, "sinvoke"),
    StaticGetRequest: (_static_get, "sget"),
}


def encode(request: object) -> dict[str, Any] | None:
    """The dict jsii's converter makes of `request`, or None for a type this does not know."""
    known = ENCODERS.get(type(request))
    if known is None:
        return None
    to_dict, api = known
    return {**to_dict(request), "api": api}


def decode(message: Any, response_type: type) -> object | None:
    """The answer jsii's converter makes of a plain `{"ok": ...}` message, or None when the
    message is anything else (an error, a callback, another shape)."""
    if not isinstance(message, dict) or message.keys() != {"ok"}:
        return None
    ok = message["ok"]
    if response_type is CreateResponse:
        # Like jsii's ObjRef hook, which keeps the reference and drops its interfaces.
        return CreateResponse(ref=ok.ref) if isinstance(ok, ObjRef) else None
    if not isinstance(ok, dict):
        return None
    if response_type is GetResponse:
        return GetResponse(value=ok.get("value"))
    if response_type is InvokeResponse:
        return InvokeResponse(result=ok.get("result"))
    if response_type is SetResponse:
        return SetResponse()
    return None


def send(self: process._NodeProcess, request: Any, response_type: Any) -> Any:
    """`_NodeProcess.send` with the fast paths above; the same bytes on the wire."""
    request_dict = encode(request)
    if request_dict is None or host_stack_traces_enabled():
        return JSII_SEND(self, request, response_type)
    data = json.dumps(request_dict, default=process.jdefault).encode("utf8")
    stdin = self._process.stdin
    assert stdin is not None
    stdin.write(b"%b\n" % (data,))
    stdin.flush()
    message = self._next_message()
    response = decode(message, response_type)
    if response is not None:
        return response
    return _answer(self, message, response_type)


def _answer(self: process._NodeProcess, message: Any, response_type: Any) -> Any:
    """What the rest of jsii's `send` does with a message (errors and callbacks included)."""
    response_union: Any = process._ProcessResponse
    response = self._serializer.structure(message, response_union)
    if isinstance(response, process._OkayResponse):
        return self._serializer.structure(response.ok, response_type)
    if isinstance(response, process._CallbackResponse):
        return response.callback
    cause = JavaScriptError(response.stack)  # type: ignore[no-untyped-call]
    if response.name == ErrorType.JSII_FAULT.value:
        raise JSIIError(response.error) from cause
    raise RuntimeError(response.error) from cause


def install() -> None:
    """Use `send` for every jsii call from now on (idempotent)."""
    process._NodeProcess.send = send  # type: ignore[method-assign]
