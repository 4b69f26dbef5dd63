#!/usr/bin/env python3
"""Fail on import circles between the source files of a crate.

A file's edges are its `use crate::...`, `use super::...` and `use self::...`
lines, each resolved to the deepest module file that exists; a file using
its own ancestor or descendant (a mod.rs and its children) is not a circle.
Inline `#[cfg(test)] mod tests { ... }` blocks are left out.

    tests/import_cycles.py engine/src app
"""
import os
import re
import sys

USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)
INLINE_TESTS = re.compile(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", re.S)


def modules(root):
    """Module path (tuple) -> file, for every .rs file under root."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".rs"):
                parts = tuple(os.path.relpath(os.path.join(d, n), root)[:-3].split(os.sep))
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                out[parts] = os.path.join(d, n)
    return out


def targets(use):
    """The paths one `use` names (one level of braces expanded)."""
    head, _, rest = use.replace("\n", " ").partition("{")
    items = [head] if not rest else [head + t.strip() for t in rest.rstrip("} ").split(",")]
    return [[s for s in t.split(" as ")[0].strip().split("::") if s] for t in items]


def edges(mods):
    out = {m: set() for m in mods}
    for m, path in mods.items():
        src = INLINE_TESTS.sub("", open(path, encoding="utf-8").read())
        for use in USE.findall(src):
            for segs in targets(use):
                if not segs:
                    continue
                if segs[0] == "crate":
                    full = segs[1:]
                elif segs[0] in ("super", "self"):
                    full = list(m)
                    while segs and segs[0] == "super":
                        full, segs = full[:-1], segs[1:]
                    full += segs[1:] if segs and segs[0] == "self" else segs
                else:
                    continue
                hit = next((tuple(full[:i]) for i in range(len(full), 0, -1) if tuple(full[:i]) in mods), None)
                if hit and hit != m[: len(hit)] and m != hit[: len(m)]:
                    out[m].add(hit)
    return out


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan, iterative)."""
    index, low, stack, on, found, n = {}, {}, [], set(), [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = n
        n += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n
                    n += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
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
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def main():
    bad = 0
    for root in sys.argv[1:]:
        mods = modules(root)
        graph = edges(mods)
        for comp in cycles(graph):
            bad += 1
            print(f"import circle in {root}:")
            for m in comp:
                print(f"  {mods[m]} uses", ", ".join(mods[t] for t in sorted(graph[m]) if t in comp))
    if bad:
        sys.exit(1)
    print("no import circles in", ", ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
