"""`get` output formats: ps (default table), wide, yaml, json, custom-columns=..., and
go-template=... / go-template-file=... (a subset of Go templates: `{{.a.b}}`,
`{{range .items}}...{{end}}`, `{{"text"}}`)."""
from __future__ import annotations

import json
import re

from calicoctl_py.columns import columns_for
from calicoctl_py.exit import fail


def _yaml_dump(data) -> str:
    import yaml
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def as_document(spec, items: list[dict], single: bool, revision) -> dict:
    """One object when a single name was asked for, else a `<Kind>List` like calicoctl."""
    if single and len(items) == 1:
        return items[0]
    return {"apiVersion": spec.api_version, "items": items, "kind": f"{spec.doc_kind}List",
            "metadata": {"resourceVersion": str(revision)}}


def table(spec, items: list[dict], cols: tuple[str, ...], with_namespace: bool, ctx: dict) -> str:
    getters = columns_for(spec.kind)
    if with_namespace and spec.namespaced and "NAMESPACE" not in cols:
        cols = ("NAMESPACE", *cols)
    unknown = [c for c in cols if c not in getters]
    if unknown:
        valid = ", ".join(c for c in getters if c in set(spec.wide_columns) | {"NAME", "NAMESPACE"}
                          or c in spec.columns)
        fail(f"unrecognized column name(s): {', '.join(unknown)}; valid columns for "
             f"{spec.kind}: {valid}")
    rows = [list(cols)] + [[getters[c](item, ctx) for c in cols] for item in items]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    return "".join("".join(cell.ljust(w + 3) for cell, w in zip(r, widths)) + "\n" for r in rows)


def render(fmt: str, spec, items: list[dict], single: bool, revision, with_namespace: bool,
           ctx: dict | None = None) -> str:
    ctx = ctx or {}
    if fmt in ("ps", ""):
        return table(spec, items, spec.columns, with_namespace, ctx)
    if fmt == "wide":
        return table(spec, items, spec.wide_columns, with_namespace, ctx)
    if fmt == "yaml":
        return _yaml_dump(as_document(spec, items, single, revision))
    if fmt == "json":
        return json.dumps(as_document(spec, items, single, revision), indent=2) + "\n"
    if fmt.startswith("custom-columns="):
        cols = tuple(c.strip().upper() for c in fmt.split("=", 1)[1].split(",") if c.strip())
        if not cols:
            fail("custom-columns needs at least one column name")
        return table(spec, items, cols, with_namespace, ctx)
    if fmt.startswith("go-template="):
        return go_template(fmt.split("=", 1)[1], as_document(spec, items, single, revision))
    if fmt.startswith("go-template-file="):
        path = fmt.split("=", 1)[1]
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            fail(f"cannot read template file {path}: {e.strerror}")
        return go_template(text, as_document(spec, items, single, revision))
    fail(f"unrecognized output format '{fmt}': use ps, wide, yaml, json, custom-columns=..., "
         f"go-template=... or go-template-file=...")


_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)


def _lookup(data, path: str):
    if path == ".":
        return data
    for part in path.strip(".").split("."):
        if isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _fmt_value(v) -> str:
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def go_template(text: str, data) -> str:
    """Evaluate the small Go-template subset users reach for with calicoctl."""
    tokens = []
    pos = 0
    for m in _ACTION.finditer(text):
        tokens.append(("text", text[pos:m.start()]))
        tokens.append(("action", m.group(1)))
        pos = m.end()
    tokens.append(("text", text[pos:]))
    out, _ = _run(tokens, 0, data)
    return out


def _run(tokens, i, data):
    out = []
    while i < len(tokens):
        kind, val = tokens[i]
        if kind == "text":
            out.append(val)
        elif val == "end":
            return "".join(out), i
        elif val.startswith("range "):
            seq = _lookup(data, val[6:].strip()) or []
            body_start = i + 1
            end = body_start
            if not seq:
                _, end = _run(tokens, body_start, {})
            for item in seq:
                text, end = _run(tokens, body_start, item)
                out.append(text)
            i = end
        elif val.startswith('"') and val.endswith('"'):
            out.append(json.loads(val))
        elif val.startswith("."):
            out.append(_fmt_value(_lookup(data, val)))
        else:
            fail(f"unsupported template action '{{{{{val}}}}}'")
        i += 1
    return "".join(out), i
