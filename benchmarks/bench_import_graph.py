"""The core's import graph: modules, imports between them, and import cycles (must be 0).

Type-only imports (under ``TYPE_CHECKING``) count: grimp reads every import statement.
Run: python benchmarks/bench_import_graph.py
"""

from __future__ import annotations

import grimp


def main() -> None:
    graph = grimp.build_graph("navi_integrations")
    modules = sorted(m for m in graph.modules if m.startswith("navi_integrations"))
    edges = {
        (a, b)
        for a in modules
        for b in graph.find_modules_directly_imported_by(a)
        if b.startswith("navi_integrations") and a != b
    }
    # Tarjan's strongly connected components: any component of 2+ modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]
    succ: dict[str, list[str]] = {m: [] for m in modules}
    for a, b in edges:
        succ[a].append(b)

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in succ[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    print(f"import graph: {len(modules)} modules, {len(edges)} imports, {len(cycles)} cycles")
    for cycle in cycles:
        print("  cycle:", " <-> ".join(cycle))


if __name__ == "__main__":
    main()
