"""Which message keys the app's Python sources use, read statically with ``ast``.

A key is written three ways in this project, and each counts as a use:

- a literal: any string constant ``"<namespace>.<name>"`` whose namespace is a catalog file
  (``ui.t("train.title")``, ``LabError("errors.stride")``, ``name_key="architecture.fig_noise"``);
- an f-string family: ``f"output_size.mode_{m}"`` is the pattern ``output_size.mode_*``; every
  catalog key it matches counts as used, and a family that matches no key is missing;
- an open family: ``f"architecture.{label}"`` names only its namespace, so its keys are the
  string constants that complete it (``"col_layer"``, or ``f"slider_{name}"`` read as the pattern
  ``slider_*``) in the same file or in the app's modules that file imports.

Keys built in a way that cannot be read this way belong in ALLOWLIST, each with its reason.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Keys no scanner can see, each with the reason. Keep it short: prefer code the scanner reads.
ALLOWLIST: dict[str, str] = {}

# Calls whose first argument is a key, whatever its namespace.
KEY_ARGUMENTS = {"t", "translate", "LabError"}
# Calls whose first argument is shaped like a key, yet is not one.
NOT_KEY_ARGUMENTS = {"Claim": "a claim's id, '<lesson>.<claim>' (dcgan_core/claims.py), names a record line"}
# A string constant shaped like a key, with a catalog's namespace, yet a file name ("metrics.jsonl"),
# unless the catalogs have it.
FILE_NAME = re.compile(r".*\.(py|json|jsonl|md|pt|png|gif|npz|zip|csv|txt|toml)$")
KEY_SHAPE = re.compile(r"([a-z][a-z0-9_]*)\.([a-z0-9_]+)")
WILD = "\0"  # stands for a formatted value while an f-string is turned into a pattern
# An f-string that may complete an open family: key characters around at least one of them and
# at least one fixed character (f"slider_{name}"; not f"{n}", which would complete anything).
SUFFIX_TEMPLATE = re.compile(f"(?=.*[a-z0-9_])[a-z0-9_{WILD}]*{WILD}[a-z0-9_{WILD}]*")


def app_sources(root: Path = ROOT) -> list[Path]:
    """Every Python file of the app itself: the entry point and helpers at the root, pages, the core."""
    return sorted({*root.glob("*.py"), *root.glob("pages/**/*.py"), *root.glob("dcgan_core/**/*.py")})


@dataclass
class FileStrings:
    """The strings one source file writes: constants, and f-strings as patterns (WILD for each value)."""

    path: Path
    constants: set[str] = field(default_factory=set)
    templates: list[str] = field(default_factory=list)
    key_arguments: set[str] = field(default_factory=set)  # constants and templates passed to t(), LabError()...
    imports: set[str] = field(default_factory=set)  # dotted names this file imports, as written

    def suffix_patterns(self) -> list[re.Pattern]:
        return [template_regex(t) for t in self.templates if SUFFIX_TEMPLATE.fullmatch(t)]


def read_strings(path: Path) -> FileStrings:
    found = FileStrings(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    not_constants: set[int] = set()  # the fixed parts of f-strings, and arguments that are not keys
    key_arguments: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and _called_name(node) in NOT_KEY_ARGUMENTS:
            not_constants.update(id(n) for n in ast.walk(node.args[0]))
        if isinstance(node, ast.Call) and node.args and _called_name(node) in KEY_ARGUMENTS:
            key_arguments.add(id(node.args[0]))
        if isinstance(node, ast.Import):
            found.imports.update(alias.name for alias in node.names)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:  # the app has no relative imports
            found.imports.add(node.module)
            found.imports.update(f"{node.module}.{alias.name}" for alias in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in not_constants:
            not_constants.update(id(value) for value in node.values)
            template = "".join(v.value if isinstance(v, ast.Constant) else WILD for v in node.values)
            found.templates.append(template)
            if id(node) in key_arguments:
                found.key_arguments.add(template)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in not_constants:
            found.constants.add(node.value)
            if id(node) in key_arguments:
                found.key_arguments.add(node.value)
    return found


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def template_regex(template: str) -> re.Pattern:
    return re.compile("".join("[a-z0-9_]+" if part == WILD else re.escape(part) for part in _split(template)))


def _split(template: str) -> list[str]:
    return [p for p in re.split(f"({WILD})", template) if p]


@dataclass
class KeyReport:
    used: set[str]
    unused: set[str]
    missing: dict[str, set[str]]  # a literal key or an f-string family -> the files that write it


def scan(files: Iterable[Path], catalogs: dict[str, dict[str, str]], allowlist: Iterable[str] = ()) -> KeyReport:
    """Compare the keys that ``files`` use with the keys of every language's catalog."""
    keys = set().union(*(set(c) for c in catalogs.values()))
    namespaces = {k.split(".", 1)[0] for k in keys}
    used: set[str] = set(allowlist) & keys
    missing: dict[str, set[str]] = {}

    def need(name: str, path: Path, resolved: set[str]) -> None:
        used.update(resolved)
        if not resolved or any(not resolved <= set(c) for c in catalogs.values()):
            missing.setdefault(name, set()).add(str(path))

    sources = {path: read_strings(path) for path in files}
    root = Path(os.path.commonpath([path.parent for path in sources])) if sources else Path()
    by_module = {".".join(path.relative_to(root).with_suffix("").parts): found for path, found in sources.items()}
    for path, strings in sources.items():
        for text in strings.constants:
            shape = KEY_SHAPE.fullmatch(text)
            if (
                text in keys
                or text in strings.key_arguments
                or (shape and shape[1] in namespaces and not FILE_NAME.match(text))
            ):
                need(text, path, {text} & keys)
        completers = [strings, *(by_module[name] for name in strings.imports if name in by_module)]
        endings = set().union(*(found.constants for found in completers))
        ending_patterns = [pattern for found in completers for pattern in found.suffix_patterns()]
        for template in strings.templates:
            namespace, dot, _ = template.split(WILD, 1)[0].partition(".")
            if template not in strings.key_arguments and (not dot or namespace not in namespaces):
                continue
            members = {k for k in keys if k.startswith(namespace + ".")} if dot else set()
            if not dot or template[len(namespace) + 1 :].strip(WILD):
                pattern = template_regex(template)
                resolved = {k for k in members if pattern.fullmatch(k)}
            else:  # an open family
                resolved = {
                    k
                    for k in members
                    if (ending := k.split(".", 1)[1]) in endings or any(p.fullmatch(ending) for p in ending_patterns)
                }
            need(template.replace(WILD, "{…}"), path, resolved)
    return KeyReport(used=used, unused=keys - used, missing=missing)
