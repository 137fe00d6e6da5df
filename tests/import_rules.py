"""The import rules of the house, checked over the real import graph (every import, late ones too).

Layers, bottom to top; a module may import its own layer and the layers below, never above:

    kernel         bot.events, bot.markup, bot.ids, bot.config   neutral types, validated configuration
                   bot.graph                                     the one Microsoft Graph client
    storage        storage.*                                     tables and plain query functions
    content_index  content_index.*                               sources, index, search, cards
    nudges         nudges.*                                      pathways, planner, kinds, outbox
    access         bot.access                                    who a person is and what they may see
    context        bot.app                                       the LearnBot object handlers share
    report         bot.report.*                                  the L&D report (metrics → HTML, CSV)
    handlers       handlers.*                                    conversations
    top            bot.router, bot.adapters.*, bot.cli, …        routing, platform translation, wiring

Also: only `bot.adapters.*` import a chat-platform SDK; only `bot.graph` and the modules that call
Microsoft Graph (GRAPH_CALLERS) import msgraph / kiota / azure; one adapter never imports another; and
the graph has no cycles (imports under `if TYPE_CHECKING:` are not counted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("bot", "handlers", "nudges", "content_index", "storage")
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kernel", ("bot.events", "bot.markup", "bot.ids", "bot.config", "bot.graph", "bot.tracker")),
    ("storage", ("storage",)),
    ("content_index", ("content_index",)),
    ("nudges", ("nudges",)),
    ("access", ("bot.access",)),
    ("context", ("bot.app",)),
    ("report", ("bot.report",)),  # the report: the `report` chat handler and the CLI both write it
    ("handlers", ("handlers",)),
    ("top", ("bot",)),  # everything else in bot/: router, adapters, cli, wiring
)
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "microsoft_agents", "botbuilder")
# Each platform's SDK belongs to its own adapter: Slack's to bot.adapters.slack, the Agents SDK to
# bot.adapters.teams (so no other adapter grows a second way to talk to a platform).
SDK_ADAPTER = {
    "slack_bolt": "slack",
    "slack_sdk": "slack",
    "microsoft_agents": "teams",
    "botbuilder": "teams",
}
# Microsoft Graph's SDK (msgraph-sdk, its kiota runtime, azure-identity): built in bot.graph, used only by
# the modules that read Graph, so a Graph upgrade touches these files and nothing else.
GRAPH_SDKS = ("msgraph", "msgraph_core", "azure")  # and every kiota_* package
GRAPH_CALLERS = (
    "bot.graph",
    "nudges.org_sync",
    "nudges.calendars.graph",
    "content_index.sources.sharepoint",
)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(root, path)] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(name: str, path: Path, known: set[str]) -> Iterator[Edge]:
    """Every import in a module (top level or inside functions), as edges to modules or packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield Edge(name, target if target in known else base, node.lineno)


def layer_of(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def _adapter(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["bot", "adapters"] else None


def violations(root: Path) -> list[str]:
    """Every broken rule, one line each: file:line: what imports what, and why it may not."""
    found = modules(root)
    known = set(found)
    problems: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        where = path.relative_to(root)
        for edge in imports(name, path, known):
            top = edge.target.split(".")[0]
            if top in PLATFORM_SDKS and _adapter(name) is None:
                problems.append(f"{where}:{edge.line}: {name} imports the platform SDK {edge.target}")
            elif top in SDK_ADAPTER and _adapter(name) != SDK_ADAPTER[top]:
                owner = SDK_ADAPTER[top]
                said = f"{name} imports {edge.target}, the {owner} adapter's SDK"
                problems.append(f"{where}:{edge.line}: {said}")
            if (top in GRAPH_SDKS or top.startswith("kiota_")) and name not in GRAPH_CALLERS:
                problems.append(f"{where}:{edge.line}: {name} imports the Graph SDK {edge.target}")
            if top not in PACKAGES:
                continue
            target = edge.target
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            if target not in known:
                continue
            graph[name].add(target)
            mine, theirs = layer_of(name), layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                problems.append(
                    f"{where}:{edge.line}: {name} ({LAYERS[mine][0]}) imports {target} "
                    f"({LAYERS[theirs][0]}), a layer above it"
                )
            a, b = _adapter(name), _adapter(target)
            if a and b and a != b:
                problems.append(f"{where}:{edge.line}: adapter {name} imports another adapter, {target}")
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return list(dict.fromkeys(problems))


def cycles(graph: dict[str, set[str]]) -> Iterable[list[str]]:
    """One cycle per strongly connected component with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                out.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out
