#!/usr/bin/env python3
"""Checks the layers of core/ (docs/architecture.md) from the #include lines.

  check_layers.py SOURCE_DIR

Fails (exit 1, one line per finding) when
  - a file in core/<layer>/ includes a header of a layer it may not use
    (each layer uses only the layers below it; http and cluster are peers);
  - core files include each other in a circle (a class-level cycle: X.h or
    X.cpp includes Y.h and Y's files include X.h, directly or through
    others), which the layering alone would not catch inside one folder;
  - the console (ui/) includes a core header other than the value types it
    shows, outside LocalGatewaySource (the one place that knows the gateway
    object), or anything outside core/ includes a header that does not exist.
Standard library only; run by ctest (tst_layers) and by hand.
"""
import os
import re
import sys

# Who may include whom: a layer and everything below it.
ALLOWED = {
    "base": set(),
    "net": {"base"},
    "ws": {"base", "net"},
    "push": {"base", "net", "ws"},
    "http": {"base", "net", "ws", "push"},
    "cluster": {"base", "net", "ws", "push"},
    "offline": {"base", "net", "ws", "push", "cluster"},
    "admin": {"base", "net", "ws", "push", "http", "cluster", "offline"},
    "server": {"base", "net", "ws", "push", "http", "cluster", "offline", "admin"},
}
# What every panel of the console may see of the core: values, no objects.
UI_VALUE_HEADERS = {"Config", "Event", "EventReasons", "Events", "PushResult", "SessionInfo"}
UI_GATEWAY_FILES = {"LocalGatewaySource.h", "LocalGatewaySource.cpp"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)\.h"', re.M)


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    core = os.path.join(root, "core")
    layer_of = {}  # class name (file stem) -> layer
    files = []  # (layer, file name, path)
    for layer in sorted(os.listdir(core)):
        folder = os.path.join(core, layer)
        if not os.path.isdir(folder):
            continue
        if layer not in ALLOWED:
            print(f"core/{layer}/: a folder that is not a known layer (add it to {__file__})")
            return 1
        for name in sorted(os.listdir(folder)):
            if name.endswith((".h", ".cpp")):
                stem = name.rsplit(".", 1)[0]
                if stem in layer_of and layer_of[stem] != layer:
                    print(f"core/{layer}/{name}: {stem} exists in core/{layer_of[stem]}/ too")
                layer_of[stem] = layer
                files.append((layer, name, os.path.join(folder, name)))

    problems = []
    graph = {}
    for layer, name, path in files:
        stem = name.rsplit(".", 1)[0]
        for inc in includes(path):
            if inc not in layer_of:
                continue  # a header of another project (Qt, hiredis ...)
            target = layer_of[inc]
            if target != layer and target not in ALLOWED[layer]:
                problems.append(
                    f"core/{layer}/{name}: includes {inc}.h from core/{target}/, "
                    f"but {layer} may only use {', '.join(sorted(ALLOWED[layer])) or 'nothing'}")
            if inc != stem:
                graph.setdefault(stem, set()).add(inc)

    # Class-level cycles: strongly connected components of more than one.
    index, low, stack, on_stack, counter = {}, {}, [], set(), [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                problems.append("core: these include each other in a circle: "
                                + ", ".join(sorted(component)))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)

    ui = os.path.join(root, "ui")
    for name in sorted(os.listdir(ui)):
        if not name.endswith((".h", ".cpp")) or name in UI_GATEWAY_FILES:
            continue
        for inc in includes(os.path.join(ui, name)):
            if inc in layer_of and inc not in UI_VALUE_HEADERS:
                problems.append(
                    f"ui/{name}: includes {inc}.h from core/{layer_of[inc]}/; the console sees "
                    f"the gateway only through GatewaySource (values: {', '.join(sorted(UI_VALUE_HEADERS))})")

    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} layering problem(s)")
        return 1
    print(f"ok: {len(files)} files in {len(set(l for l, _, _ in files))} layers, no upward include, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
