#!/usr/bin/env python3
"""Validate failure reports against docs/schema/failure-report-v1.json.

Usage: validate-failure-report.py SCHEMA FILE...   each FILE holds one JSON document: a
last-failures.json object (or boot.json's previous_failures). Exit 1 with the reason on the
first that does not validate.
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            print(f"{path}: {errors[0].message} at {list(errors[0].path)}", file=sys.stderr)
            return 1
        if doc["count"] != len(doc["reports"]):
            print(f"{path}: count {doc['count']} but {len(doc['reports'])} reports", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
