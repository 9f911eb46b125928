# Validation of the config before any job is planned: unknown keys and out-of-range values
# are rejected with the key's path, and defaults fill the keys that the config leaves out.

import os

import jsonschema
import yaml
from snakemake.utils import validate


def check_config(instance, schema_file, prefix=()):
    """Raise one short error, with the key's path and a fix, for the first schema violation.

    Snakemake's own message quotes the whole schema and config, a thousand lines in which
    the one that matters is hard to find. ``prefix`` is the key path of ``instance`` in
    the config, such as ``("claims",)``.
    """
    with open(os.path.join(workflow.basedir, schema_file)) as stream:
        schema = yaml.safe_load(stream)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    if error is None:
        return
    path = ".".join(str(part) for part in (*prefix, *error.absolute_path))
    message = error.message
    if error.validator == "additionalProperties":
        message += f"; the valid keys here are {sorted(error.schema.get('properties', {}))}"
    raise ValueError(f"invalid config at {path or 'the top level'}: {message}. config/README.md documents every key")


# check_config reads the schema from the repository root, and validate (which fills the
# defaults) from this file's folder.
check_config(config, "workflow/schemas/config.schema.yaml")
validate(config, "../schemas/config.schema.yaml")
check_config(config["claims"], "workflow/schemas/claims.schema.yaml", prefix=("claims",))
validate(config["claims"], "../schemas/claims.schema.yaml")
