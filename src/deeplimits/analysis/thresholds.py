"""The thresholds of the claim verdicts: reading, defaults and validation by JSON Schema.

The thresholds are the config's ``claims`` mapping. Their schema (JSON Schema 2020-12,
``workflow/schemas/claims.schema.yaml`` in the source tree) gives every key a type, bounds,
a default and a description. Missing keys take the default.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import jsonschema
import yaml

logger = logging.getLogger(__name__)

__all__ = ["default_schema_path", "read_schema", "load_thresholds", "validate_thresholds"]


def default_schema_path() -> Path:
    """Return ``workflow/schemas/claims.schema.yaml`` of the source tree this package runs from.

    NOTE: a package installed without its source tree (not editable) has no such file;
    pass the schema's path explicitly (``deeplimits claims --schema``) there.
    """
    return Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "claims.schema.yaml"


def read_schema(path: Path | None = None) -> dict:
    """Read the thresholds schema from ``path`` (default: :func:`default_schema_path`).

    Raises
    ------
    FileNotFoundError
        If the schema file does not exist.
    """
    path = Path(path) if path is not None else default_schema_path()
    if not path.exists():
        raise FileNotFoundError(f"claims schema {path} not found; pass its location with --schema")
    return yaml.safe_load(path.read_text())


def load_thresholds(path: Path | None, schema_path: Path | None = None) -> dict:
    """Read thresholds from a YAML or JSON file, fill in defaults and validate them.

    The file contains the ``claims`` mapping itself, or a whole workflow config whose
    top-level ``claims`` key is then read. Without a file every threshold takes
    its default.

    Raises
    ------
    FileNotFoundError
        If ``path`` or the schema does not exist.
    ValueError
        If the file is not a mapping or a threshold is invalid; the message lists every
        invalid key with the value received and what is allowed.
    """
    schema = read_schema(schema_path)
    if path is None:
        return validate_thresholds({}, schema)

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"thresholds file {path} not found")
    text = path.read_text()
    values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    values = {} if values is None else values
    if isinstance(values, dict) and isinstance(values.get("claims"), dict) and "claims" not in schema.get("properties", {}):
        values = values["claims"]
    return validate_thresholds(values, schema, source=str(path))


def validate_thresholds(values, schema: dict, source: str = "claims thresholds") -> dict:
    """Return ``values`` with defaults filled in, after validating them against ``schema``.

    Raises
    ------
    ValueError
        If ``values`` is not a mapping, violates the schema, or gives an order range whose
        lower end is not below its upper end.
    """
    if not isinstance(values, dict):
        raise ValueError(f"{source}: expected a mapping of threshold names to values, got {type(values).__name__}")

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(values), key=lambda error: list(error.absolute_path))
    if errors:
        raise ValueError(f"{source}: invalid thresholds:\n" + "\n".join(_describe(error, schema) for error in errors))

    filled = {key: copy.deepcopy(spec["default"]) for key, spec in schema["properties"].items() if "default" in spec}
    filled.update(values)
    for key, value in filled.items():
        if isinstance(value, list) and len(value) == 2 and not value[0] < value[1]:
            raise ValueError(f"{source}: {key} must be [low, high] with low < high, got {value}")
    return filled


def _describe(error: jsonschema.ValidationError, schema: dict) -> str:
    """Describe one schema violation in a line: key, value received, the rule, and the key's description."""
    path = ".".join(str(part) for part in error.absolute_path)
    if not path:
        return f"  {error.message}; valid keys are {sorted(schema.get('properties', {}))}"
    key = str(error.absolute_path[0])
    description = schema.get("properties", {}).get(key, {}).get("description", "")
    summary = description.split(". ")[0].strip().rstrip(".")
    return f"  {path}: {error.message}" + (f" ({key}: {summary})" if summary else "")
