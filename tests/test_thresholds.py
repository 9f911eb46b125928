"""Tests of deeplimits.analysis.thresholds and of the schema workflow/schemas/claims.schema.yaml."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from deeplimits.analysis.thresholds import default_schema_path, load_thresholds, read_schema, validate_thresholds


def test_schema_is_valid_json_schema():
    schema = read_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


def test_every_threshold_is_documented_and_bounded():
    for key, spec in read_schema()["properties"].items():
        assert spec["type"] in ("number", "integer", "array"), key
        assert "default" in spec, key
        assert len(spec.get("description", "")) > 40, key
        bounded = spec["items"] if spec["type"] == "array" else spec
        assert "minimum" in bounded or "exclusiveMinimum" in bounded, key
        assert "maximum" in bounded, key


def test_defaults_are_valid():
    schema = read_schema()
    defaults = {key: spec["default"] for key, spec in schema["properties"].items()}
    jsonschema.Draft202012Validator(schema).validate(defaults)
    assert load_thresholds(None) == defaults


def test_schema_lives_in_source_tree():
    assert default_schema_path().parts[-3:] == ("workflow", "schemas", "claims.schema.yaml")


def test_given_values_override_defaults():
    thresholds = validate_thresholds({"fit_min_depth": 32}, read_schema())
    assert thresholds["fit_min_depth"] == 32
    assert thresholds["forward_order"] == [0.8, 1.2]


def test_whole_config_file_is_read_from_claims_key(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"datasets": ["moons"], "claims": {"seminorm_ratio_max": 3.0}}))
    assert load_thresholds(config)["seminorm_ratio_max"] == 3.0


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"energy_order_min": -1}, r"energy_order_min: -1 is less than or equal to the minimum of 0"),
        ({"energy_order_minimum": 1}, r"Additional properties are not allowed \('energy_order_minimum' was unexpected\)"),
        ({"fit_min_depth": 2.5}, r"fit_min_depth: 2.5 is not of type 'integer'"),
        ({"forward_order": [1.2, 0.8]}, r"forward_order must be \[low, high\] with low < high, got \[1.2, 0.8\]"),
        ({"forward_order": [0.8]}, r"forward_order: \[0.8\] is too short"),
        ({"disagreement_max": 2}, r"disagreement_max: 2 is greater than the maximum of 1"),
    ],
)
def test_invalid_thresholds_are_rejected(tmp_path, thresholds, message):
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps(thresholds))
    with pytest.raises(ValueError, match=message):
        load_thresholds(path)


def test_thresholds_must_be_a_mapping(tmp_path):
    path = tmp_path / "thresholds.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="expected a mapping of threshold names to values, got list"):
        load_thresholds(path)


def test_missing_schema_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="pass its location with --schema"):
        load_thresholds(None, tmp_path / "absent.yaml")
