"""Amazon's official SP-API models, as the sandbox uses them.

The models under ``spapi/`` are byte-for-byte copies of Amazon's Swagger files and JSON schemas
(Apache-2.0, see ``spapi/SOURCE.md``). From them the sandbox takes:

- the operation table: method, path and each operation's default usage plan (rate and burst),
  which Amazon states in a table in every operation's description;
- the schemas that request bodies are validated against, so a bad request gets the 400 Amazon
  would send, and that tests validate every response against.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPAPI = resources.files(__package__).joinpath("spapi")

# Short names for the model files; operation keys read "<api>.<operationId>".
MODEL_FILES = {
    "orders": "orders-api-model/orders_2026-01-01.json",
    "ordersV0": "orders-api-model/ordersV0.json",
    "feeds": "feeds-api-model/feeds_2021-06-30.json",
    "reports": "reports-api-model/reports_2021-06-30.json",
    "listings": "listings-items-api-model/listingsItems_2021-08-01.json",
    "fbaInventory": "fba-inventory-api-model/fbaInventory.json",
    "sellers": "sellers-api-model/sellers.json",
    "mfn": "merchant-fulfillment-api-model/merchantFulfillmentV0.json",
    "tokens": "tokens-api-model/tokens_2021-03-01.json",
    "finances": "finances-api-model/financesV0.json",
}

_USAGE_PLAN = re.compile(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|")
_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class OperationSpec:
    api: str
    operation_id: str
    method: str
    path: str
    rate: float  # requests per second, Amazon's default usage plan
    burst: int

    @property
    def key(self) -> str:
        return f"{self.api}.{self.operation_id}"


def _read(path: Traversable) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def model(api: str) -> dict[str, Any]:
    """The Swagger document of ``api`` (a key of :data:`MODEL_FILES`)."""
    document: dict[str, Any] = _read(SPAPI.joinpath("models", MODEL_FILES[api]))
    return document


@cache
def operations() -> dict[str, OperationSpec]:
    """Every operation of the vendored models that states a usage plan, by key."""
    table: dict[str, OperationSpec] = {}
    for api in MODEL_FILES:
        for path, item in model(api)["paths"].items():
            for method in _METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                plan = _USAGE_PLAN.search(operation.get("description", ""))
                if plan is None:  # sandbox-only helpers in the models have no usage plan
                    continue
                spec = OperationSpec(
                    api=api,
                    operation_id=operation["operationId"],
                    method=method.upper(),
                    path=path,
                    rate=float(plan.group(1)),
                    burst=int(plan.group(2)),
                )
                table[spec.key] = spec
    return table


def operation(key: str) -> OperationSpec:
    try:
        return operations()[key]
    except KeyError:
        raise KeyError(f"no operation {key!r} in the vendored SP-API models") from None


@cache
def _registry() -> Registry[Any]:
    resources_: list[tuple[str, Resource[Any]]] = [
        (f"urn:spapi:{api}", Resource.from_contents(model(api), default_specification=DRAFT4))
        for api in MODEL_FILES
    ]
    return Registry().with_resources(resources_)


@cache
def definition_validator(api: str, definition: str) -> jsonschema.Draft4Validator:
    """A validator for ``#/definitions/<definition>`` of ``api``'s model."""
    if definition not in model(api)["definitions"]:
        raise KeyError(f"{api} has no definition {definition!r}")
    return jsonschema.Draft4Validator(
        {"$ref": f"urn:spapi:{api}#/definitions/{definition}"},
        registry=_registry(),
        format_checker=jsonschema.FormatChecker(),
    )


def body_definition(spec: OperationSpec) -> str | None:
    """The definition name of the operation's request body, if it takes one."""
    operation_doc = model(spec.api)["paths"][spec.path][spec.method.lower()]
    for parameter in operation_doc.get("parameters", []):
        if parameter.get("in") == "body":
            ref: str = parameter["schema"]["$ref"]
            return ref.rsplit("/", 1)[-1]
    return None


def response_definition(spec: OperationSpec, status: int) -> str | None:
    """The definition name of the response body for ``status``, if the model declares one."""
    operation_doc = model(spec.api)["paths"][spec.path][spec.method.lower()]
    response = operation_doc["responses"].get(str(status))
    if response is None or "schema" not in response:
        return None
    ref: str = response["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


@cache
def document_schema(name: str) -> jsonschema.Draft7Validator:
    """A validator for a feed or report document schema, e.g. ``feeds/listings-feed-schema-v2``."""
    schema = _read(SPAPI.joinpath("schemas", f"{name}.json"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
