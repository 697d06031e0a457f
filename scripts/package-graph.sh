#!/usr/bin/env bash
# The package graph of Baton's product code (handoff/ and sidecar/), from the compiled classes
# by the JDK's jdeps: writes target/package-graph/packages.dot (and .svg where Graphviz's `dot`
# is installed: apt-get install graphviz), lists every arrow, and fails if packages form a cycle.
# The same rules are enforced in every build by the ArchUnit tests; this is the picture.
#
#   mvn -o -q -DskipTests package -pl sidecar -am && scripts/package-graph.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/package-graph
mkdir -p "$out"
for module in handoff sidecar; do
  [[ -d $module/target/classes ]] || { echo "no $module/target/classes: build first (see above)" >&2; exit 2; }
done
jdeps -verbose:package -filter:none --multi-release 17 \
  -cp handoff/target/classes handoff/target/classes sidecar/target/classes > "$out/jdeps.txt"
python3 - "$out" <<'PY'
import re, sys, collections
out = sys.argv[1]
edges = set()
source = None
for line in open(f"{out}/jdeps.txt"):
    m = re.match(r"^\s+(io\.baton\.\S+)\s+->\s+(io\.baton\.\S+)\s", line)
    if m and m.group(1) != m.group(2) and not m.group(2).startswith("io.baton.proto"):
        edges.add((m.group(1), m.group(2)))
graph = collections.defaultdict(set)
for a, b in edges:
    graph[a].add(b)
nodes = sorted({n for e in edges for n in e})
# Tarjan's strongly connected components: any with more than one package is a cycle.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
sys.setrecursionlimit(10000)
for n in nodes:
    if n not in index:
        visit(n)
cycles = [c for c in sccs if len(c) > 1]
short = lambda p: p.replace("io.baton.", "")
with open(f"{out}/packages.dot", "w") as f:
    f.write('digraph packages {\n  rankdir=LR; node [shape=box, fontsize=10];\n')
    for module in ("handoff", "sidecar"):
        f.write(f'  subgraph cluster_{module} {{ label="{module}/";\n')
        for n in nodes:
            if n.startswith(f"io.baton.{module}"):
                f.write(f'    "{short(n)}";\n')
        f.write("  }\n")
    for a, b in sorted(edges):
        f.write(f'  "{short(a)}" -> "{short(b)}";\n')
    f.write("}\n")
print(f"{len(nodes)} packages, {len(edges)} arrows -> {out}/packages.dot")
for a, b in sorted(edges):
    print(f"  {short(a)} -> {short(b)}")
if cycles:
    for c in cycles:
        print("CYCLE: " + " <-> ".join(sorted(map(short, c))))
    sys.exit(1)
print("no cycle between packages")
PY
if command -v dot > /dev/null; then
  dot -Tsvg "$out/packages.dot" -o "$out/packages.svg" && echo "picture: $out/packages.svg"
fi
