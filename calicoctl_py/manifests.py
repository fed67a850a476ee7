"""Reading manifests: `-f FILE|DIR|-`, YAML or JSON, several documents, `List` kinds.

Returns raw documents with their position (document index, source) so that validation
errors can name exactly which document failed. Nothing here talks to etcd.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass


class ManifestError(Exception):
    """A file that cannot be read or parsed; the message is one line for the user."""


@dataclass
class Document:
    index: int          # 1-based position across everything read, as users count
    source: str         # file name or "stdin"
    body: dict


def _files_in(path: str, recursive: bool) -> list[str]:
    if not os.path.isdir(path):
        return [path]
    found = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".yaml", ".yml", ".json")):
                found.append(os.path.join(root, name))
        if not recursive:
            break
    return found


def _parse_text(text: str, source: str) -> list:
    import yaml
    stripped = text.lstrip()
    multi_doc = any(line.rstrip() == "---" for line in text.splitlines())
    if stripped.startswith(("{", "[")) and not multi_doc:
        try:
            data = json.loads(text)
            return data if isinstance(data, list) else [data]
        except json.JSONDecodeError as e:
            raise ManifestError(f"{source}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ManifestError(f"{source}: invalid YAML{where}: {problem}")


def _expand(doc, source: str) -> list[dict]:
    """Flatten `List` kinds (kind: List or kind: <Kind>List with items)."""
    if not isinstance(doc, dict):
        raise ManifestError(f"{source}: a document must be a mapping, got {type(doc).__name__}")
    kind = doc.get("kind", "")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        out = []
        for item in doc["items"]:
            out.extend(_expand(item, source))
        return out
    return [doc]


def read(filename: str, recursive: bool = False, stdin=None) -> list[Document]:
    """All documents of `filename` ("-" for stdin, a directory for every manifest in it)."""
    sources: list[tuple[str, str]] = []
    if filename == "-":
        sources.append(("stdin", (stdin or sys.stdin).read()))
    else:
        if not os.path.exists(filename):
            raise ManifestError(f"file does not exist: {filename}")
        for path in _files_in(filename, recursive):
            try:
                with open(path, encoding="utf-8") as f:
                    sources.append((path, f.read()))
            except OSError as e:
                raise ManifestError(f"cannot read {path}: {e.strerror}")
    docs: list[Document] = []
    for source, text in sources:
        for raw in _parse_text(text, source):
            for body in _expand(raw, source):
                docs.append(Document(len(docs) + 1, source, body))
    return docs
