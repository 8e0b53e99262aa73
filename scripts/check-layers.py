#!/usr/bin/env python3
"""Fails if the modules of `core/src` (dam-core) import each other in a cycle,
or if a module uses one of a layer above its own.

The layering this guards is drawn in docs/architecture.md. Usage:

    python3 scripts/check-layers.py           # check; exit 1, printing each cycle or upward use
    python3 scripts/check-layers.py --graph   # also print every edge with its source lines

What counts as an import
------------------------
Every `use` declaration whose path starts at `crate`, `$crate`, `self` or `super`
(grouped trees such as `use crate::{a, b::{c, d}}` included) and every such path
written inline in code (`crate::simd::dot(..)`, `super::scalar::dot_i8(..)`).
Comments, doc comments and string literals are ignored, so intra-doc links do
not count. Names re-exported by `lib.rs` or by a module's `mod.rs`
(`pub use child::Name`) resolve to the module that defines them.

What is left out: test-only code
--------------------------------
An item under `#[cfg(test)]` (a `mod tests { .. }`, a `mod tests;` file such as
`quantized/tests.rs`, `test_config.rs`) is skipped: the rule is about the
library's layering, and a test may use anything below or above the module it
tests. `cfg` attributes other than `test` (target features, `dam_dsp`) do not
exclude anything: every target's code is checked.

The nodes
---------
Top-level modules (`real`, `simd`, `model`, …); a cycle among them fails. The
modules with children (`simd`, `model`, `drdam`, `quantized`) are also checked
inside: their children and the `mod.rs` itself are nodes, a cycle among them
fails too. A module declaring and re-exporting its own children is not counted
as an edge (it owns them: `lib.rs` its top-level modules, a `mod.rs` its
children); a child using its `mod.rs`, or another child, is.

Layers
------
Each top-level module belongs to one layer of LAYERS (the table of
docs/architecture.md); a module using one of a higher layer fails, and so
does a module without a layer.

Allowed edges
-------------
ALLOWED lists edges that are known to close a cycle and are still to be
removed. They are dropped before the search, so any *new* cycle still fails;
an allowed edge that no longer exists is an error too (delete it from the
list), so the list can only shrink.
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "core" / "src"

# The layers of docs/architecture.md, bottom first: a module may use its own
# layer (without a cycle) and those below, never one above. A new top-level
# module must be placed here (and in the document).
LAYERS: list[tuple[str, list[str]]] = [
    ("errors", ["error"]),
    ("numbers", ["isa", "real", "wide", "trig"]),
    ("kernels", ["simd"]),
    ("interaction functions and memory views", ["interaction", "memory", "energy"]),
    ("model format", ["model"]),
    ("memories and classifiers", ["bipolar", "lse", "drdam", "classifier", "potts", "quantized"]),
    ("firmware front", ["prepared", "forward"]),
    ("tests only", ["test_config"]),
]

# (from, to) edges tolerated for now, each closing a cycle that a later
# change must break: empty, and to stay so. Kept as the way to land a large
# refactoring in steps; the script fails on an entry that no longer exists.
ALLOWED: list[tuple[str, str]] = []

# ---------------------------------------------------------------- lexing


def strip(text: str) -> str:
    """The source with comments and string/char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == "'" and (m := re.match(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_cfg_test(code: str) -> tuple[str, list[str]]:
    """Blanks every item under `#[cfg(test)]`; returns the code and the names
    of `#[cfg(test)] mod name;` file modules."""
    test_files = []
    while m := re.search(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]", code):
        i = m.end()
        # Skip further attributes on the same item.
        while a := re.match(r"\s*#\s*\[", code[i:]):
            depth, j = 1, i + a.end()
            while j < len(code) and depth:
                depth += {"[": 1, "]": -1}.get(code[j], 0)
                j += 1
            i = j
        semi, brace = code.find(";", i), code.find("{", i)
        if semi >= 0 and (brace < 0 or semi < brace):
            if fm := re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code[i:]):
                test_files.append(fm.group(1))
            end = semi + 1
        else:
            depth, j = 1, brace + 1
            while j < len(code) and depth:
                depth += {"{": 1, "}": -1}.get(code[j], 0)
                j += 1
            end = j
        code = code[: m.start()] + "\n" * code.count("\n", m.start(), end) + code[end:]
    return code, test_files


# ---------------------------------------------------------------- modules


def module_of(path: Path) -> tuple[str, ...]:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib"):
        parts.pop()
    return tuple(parts)


def expand_use(tree: str) -> list[list[str]]:
    """`a::{b, c::{d, e as f}, self}` -> [[a, b], [a, c, d], [a, c, e], [a]]."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))

    def split_top(s: str) -> list[str]:
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += {"{": 1, "}": -1}.get(ch, 0)
            cur += ch
        if cur:
            parts.append(cur)
        return parts

    def go(s: str) -> list[list[str]]:
        if "{" in s:
            k = s.index("{")
            prefix = [p for p in s[:k].split("::") if p]
            inner = s[k + 1 : s.rindex("}")]
            result = []
            for part in split_top(inner):
                for tail in go(part):
                    result.append(prefix + ([] if tail == ["self"] else tail))
            return result
        segs = [p for p in s.split("::") if p]
        return [segs]

    return go(tree)


def main() -> int:
    files = sorted(SRC.rglob("*.rs"))
    codes, test_modules, file_of = {}, set(), {}
    for f in files:
        code, tests = drop_cfg_test(strip(f.read_text()))
        mod = module_of(f)
        codes[mod] = code
        file_of[mod] = str(f.relative_to(SRC))
        for t in tests:
            test_modules.add(mod + (t,))
    modules = {m for m in codes if m not in test_modules and not any(m[: len(t)] == t for t in test_modules)}
    codes = {m: c for m, c in codes.items() if m in modules}
    split = {m[0] for m in modules if len(m) == 2}

    def node(mod: tuple[str, ...]) -> tuple[str, ...]:
        return mod[:2] if mod and mod[0] in split else mod[:1]

    # Uses per module: (absolute path segments, line number).
    uses: dict[tuple, list[tuple[list[str], int]]] = defaultdict(list)
    reexports: dict[tuple, dict[str, tuple]] = defaultdict(dict)

    def absolute(mod, segs):
        if not segs:
            return None
        head, rest = segs[0], segs[1:]
        if head in ("crate", "$crate"):
            return rest
        base = list(mod)
        while head in ("self", "super"):
            if head == "super":
                if not base:
                    return None
                base.pop()
            if not rest:
                return base
            head, rest = rest[0], rest[1:]
        return base + [head] + rest

    use_re = re.compile(r"(?<![\w:])(pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]+);")
    path_re = re.compile(r"(?<![\w:])(\$?crate|self|super)((?:\s*::\s*\w+)+)")
    for mod, code in codes.items():
        spans = []
        for m in use_re.finditer(code):
            spans.append((m.start(), m.end()))
            line = code.count("\n", 0, m.start()) + 1
            for segs in expand_use(m.group(2)):
                if segs and segs[0] not in ("crate", "$crate", "self", "super"):
                    # A path relative to this module (`use child::X` in a mod.rs).
                    if mod + (segs[0],) in modules:
                        segs = ["self"] + segs
                    else:
                        continue
                a = absolute(mod, segs)
                if a is None or a[-1:] == ["*"]:
                    continue
                uses[mod].append((a, line))
                if m.group(1):
                    name = a[-1]
                    reexports[mod][name] = tuple(a[:-1])
        for m in path_re.finditer(code):
            if any(s <= m.start() < e for s, e in spans):
                continue
            segs = [m.group(1)] + [p for p in re.split(r"\s*::\s*", m.group(2)) if p]
            a = absolute(mod, segs)
            if a is not None:
                uses[mod].append((a, code.count("\n", 0, m.start()) + 1))

    def resolve(a: list[str], depth: int = 0) -> tuple | None:
        """The node that defines the item at absolute path `a`."""
        best = ()
        for k in range(len(a), 0, -1):
            if tuple(a[:k]) in modules:
                best = tuple(a[:k])
                break
        rest = a[len(best) :]
        if rest and depth < 8 and rest[0] in reexports.get(best, {}):
            target = list(reexports[best][rest[0]]) + [rest[0]] + rest[1:]
            r = resolve(target, depth + 1)
            if r is not None:
                return r
        return node(best) if best else None

    edges: dict[tuple, dict[tuple, list[str]]] = defaultdict(lambda: defaultdict(list))
    for mod, lst in uses.items():
        src = node(mod)
        for a, line in lst:
            dst = resolve(a)
            if dst is None or dst == src or dst == ():
                continue
            if src == ():
                continue  # lib.rs declares and re-exports every module: it owns them
            where = f"{file_of[mod]}:{line}"
            if where not in edges[src][dst]:
                edges[src][dst].append(where)

    def name(n):
        return "::".join(n) if n else "crate"

    # The graphs to check: the top level (children collapsed), and each split
    # module's children plus its mod.rs (parent -> own child edges dropped).
    graphs = {}
    top = defaultdict(lambda: defaultdict(list))
    for s, ds in edges.items():
        for d, where in ds.items():
            if s[:1] != d[:1]:
                top[s[:1]][d[:1]].extend(w for w in where if w not in top[s[:1]][d[:1]])
    graphs["top level"] = top
    for p in sorted(split):
        g = defaultdict(lambda: defaultdict(list))
        for s, ds in edges.items():
            for d, where in ds.items():
                if s[:1] == d[:1] == (p,) and not (s == (p,) and len(d) == 2):
                    g[s][d].extend(where)
        graphs[f"inside {p}"] = g

    if "--graph" in sys.argv:
        for title, g in graphs.items():
            print(f"== {title}")
            for s in sorted(g):
                for d in sorted(g[s]):
                    print(f"  {name(s)} -> {name(d)}    ({', '.join(g[s][d][:3])}{' …' if len(g[s][d]) > 3 else ''})")

    failed = False
    layer_of = {m: (i, title) for i, (title, mods) in enumerate(LAYERS) for m in mods}
    for m in sorted({m[:1] for m in modules if m}):
        if m[0] not in layer_of:
            failed = True
            print(f"check-layers: module {m[0]} has no layer: add it to LAYERS (and docs/architecture.md)")
    for s_, ds in sorted(top.items()):
        for d, where in sorted(ds.items()):
            ls, ld = layer_of.get(s_[0]), layer_of.get(d[0])
            if ls and ld and ld[0] > ls[0] and (name(s_), name(d)) not in set(ALLOWED):
                failed = True
                print(
                    f"check-layers: {name(s_)} ({ls[1]}) uses {name(d)} ({ld[1]}), a layer above it: "
                    + ", ".join(where[:4])
                )
    seen_allowed = set()
    for title, g in graphs.items():
        adj = {}
        for s, ds in g.items():
            for d in ds:
                if (name(s), name(d)) in set(ALLOWED):
                    seen_allowed.add((name(s), name(d)))
                    continue
                adj.setdefault(s, set()).add(d)
                adj.setdefault(d, set())
        for comp in sccs(adj):
            if len(comp) < 2:
                continue
            failed = True
            cyc = a_cycle(adj, comp)
            print(f"check-layers: import cycle ({title}): " + " -> ".join(name(c) for c in cyc + [cyc[0]]))
            for s, d in zip(cyc, cyc[1:] + [cyc[0]]):
                print(f"    {name(s)} -> {name(d)}: {', '.join(g[s][d][:4])}")
            others = sorted(name(c) for c in comp if c not in cyc)
            if others:
                print(f"    (the same tangle also holds: {', '.join(others)})")
    for e in sorted(set(ALLOWED) - seen_allowed):
        failed = True
        print(f"check-layers: allowed edge {e[0]} -> {e[1]} no longer exists: delete it from ALLOWED")
    if not failed:
        n = sum(len(ds) for g in graphs.values() for ds in g.values())
        print(
            f"check-layers: no import cycle in core/src, no module uses a layer above its own"
            f" ({n} edges, {len(LAYERS)} layers, {len(ALLOWED)} edges allowed)"
        )
    return 1 if failed else 0


def sccs(adj):
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(adj):
        if root in index:
            continue
        work = [(root, iter(sorted(adj[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(adj[w]))))
                    pushed = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def a_cycle(adj, comp):
    """A shortest cycle through the first node of a strongly connected component."""
    comp = set(comp)
    start = min(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(adj[v]):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return path[::-1]
                if w in comp and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]


if __name__ == "__main__":
    sys.exit(main())
