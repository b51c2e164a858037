#!/usr/bin/env python3
"""Generate the parameter table of the txguard chart's README from values.yaml.

Each key in values.yaml is documented by a `# -- text` comment right above
it (the helm-docs convention); comment lines that follow the `# --` line
continue the text. A key whose value is a mapping and has its own comment is
listed with the whole mapping as its default, and its children need no
comment of their own.

The table replaces everything between the two marker lines of README.md.
With --check nothing is written: the exit status is 1 when the README is out
of date or a key lacks a comment.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

REPO_DIR = Path(__file__).resolve().parent.parent
CHART_DIR = REPO_DIR / "deploy" / "helm" / "txguard"
START_MARKER = "<!-- values-table:start -->"
END_MARKER = "<!-- values-table:end -->"

DOC_LINE = re.compile(r"^(\s*)# --\s?(.*)$")
COMMENT_LINE = re.compile(r"^\s*#\s?(.*)$")
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):(\s|$)")


def parse_descriptions(text):
    """Return {dotted key path: description} from the `# --` comments of values.yaml."""
    descriptions = {}
    stack = []  # (indent, key) of the mappings enclosing the current line
    pending = None
    for line in text.splitlines():
        doc = DOC_LINE.match(line)
        if doc:
            pending = [doc.group(2).strip()]
            continue
        comment = COMMENT_LINE.match(line)
        if comment:
            if pending is not None and comment.group(1).strip():
                pending.append(comment.group(1).strip())
            continue
        if not line.strip():
            pending = None
            continue
        key = KEY_LINE.match(line)
        if not key:
            # List items and flow values carry no documented keys.
            pending = None
            continue
        indent = len(key.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key.group(2)))
        if pending is not None:
            descriptions[".".join(name for _, name in stack)] = " ".join(pending)
            pending = None
    return descriptions


def lookup(values, path):
    node = values
    for part in path.split("."):
        node = node[part]
    return node


def leaf_paths(node, prefix=""):
    """Yield the dotted path of every scalar, list or empty mapping in `node`."""
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, path)
        else:
            yield path


def type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def cell(text):
    return text.replace("|", "\\|")


def build_table(values_text):
    """Return (table text, undocumented leaf paths)."""
    values = yaml.safe_load(values_text)
    descriptions = parse_descriptions(values_text)

    undocumented = []
    for path in leaf_paths(values):
        parts = path.split(".")
        ancestors = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
        if not any(ancestor in descriptions for ancestor in ancestors):
            undocumented.append(path)

    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for path, description in descriptions.items():
        value = lookup(values, path)
        default = json.dumps(value, separators=(",", ":"))
        rows.append(f"| `{path}` | {type_name(value)} | `{cell(default)}` | {cell(description)} |")
    return "\n".join(rows) + "\n", undocumented


def render_readme(readme_text, table):
    start = readme_text.find(START_MARKER)
    end = readme_text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"README.md needs the lines {START_MARKER} and {END_MARKER}, in that order")
    head = readme_text[: start + len(START_MARKER)]
    return f"{head}\n{table}{readme_text[end:]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", type=Path, default=CHART_DIR, help="chart directory")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when README.md is out of date")
    args = parser.parse_args()

    values_text = (args.chart / "values.yaml").read_text()
    readme_path = args.chart / "README.md"
    table, undocumented = build_table(values_text)
    if undocumented:
        print("gen-chart-readme: keys without a `# --` comment in values.yaml: "
              + ", ".join(undocumented), file=sys.stderr)
        return 1

    current = readme_path.read_text()
    updated = render_readme(current, table)
    if args.check:
        if updated != current:
            print(f"gen-chart-readme: {readme_path} is out of date; run scripts/gen-chart-readme.py",
                  file=sys.stderr)
            return 1
        return 0
    if updated != current:
        readme_path.write_text(updated)
        print(f"gen-chart-readme: updated {readme_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
