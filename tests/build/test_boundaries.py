#!/usr/bin/env python3
"""The build holds the folder boundaries of CONVENTIONS.md §1.

1. Each third-party library's headers compile only in the folder that wraps it: a probe file is
   compiled with the exact command line of a real source file of each folder (and of main.c),
   taken from compile_commands.json. Including <libpq-fe.h> in src/git/'s context must fail with
   the fence message; including <git2.h> there must compile (the control that lets this fail).
2. The folders' include and link dependencies stay inside the graph src/CMakeLists.txt declares
   (build/folder_deps.txt), and that graph has no cycle.

usage: test_boundaries.py BUILD_DIR SOURCE_DIR
"""
import collections
import concurrent.futures
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

# The policy itself, written independently of the CMake code that implements it.
OWNERS = {
    "db": "libpq",
    "git": "libgit2",
    "health": "libcurl",
    "backup": "libarchive",
    "util": "openssl",
    "lint": "libpg_query",
}
PROBES = {
    "libpq": ["libpq-fe.h"],
    "libgit2": ["git2.h", "git2/repository.h"],
    "libcurl": ["curl/curl.h"],
    "libarchive": ["archive.h", "archive_entry.h"],
    "openssl": ["openssl/evp.h", "openssl/sha.h"],
    "libpg_query": ["pg_query.h"],
}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def contexts(build, source):
    """One real compile command per src/ folder, plus main.c."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    src = os.path.join(source, "src") + os.sep
    out = {}
    for e in entries:
        path = os.path.realpath(e["file"])
        if not path.startswith(os.path.realpath(src)):
            continue
        rel = os.path.relpath(path, os.path.realpath(src))
        folder = "main" if rel == "main.c" else rel.split(os.sep)[0]
        if folder not in out:
            out[folder] = e
    return out


def probe(entry, header, tmp):
    """Compile '#include <header>' with entry's command line; returns (ok, stderr)."""
    name = os.path.join(tmp, re.sub(r"[^a-z0-9]", "_", header) + "_" + str(abs(hash(entry["file"]))) + ".c")
    with open(name, "w") as f:
        f.write("#include <%s>\nint dd_probe(void);\nint dd_probe(void) { return 0; }\n" % header)
    argv = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    cmd, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = a != "-c"
            continue
        if a in ("-MD", "-MMD") or os.path.realpath(os.path.join(entry["directory"], a)) == os.path.realpath(
            entry["file"]
        ):
            continue
        cmd.append(a)
    r = subprocess.run(cmd + ["-fsyntax-only", name], cwd=entry["directory"], capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def check_headers(ctx):
    owned = {lib: folder for folder, lib in OWNERS.items()}
    jobs = []
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(4) as pool:
        for folder, entry in sorted(ctx.items()):
            for lib, headers in PROBES.items():
                for h in headers:
                    jobs.append((folder, lib, h, pool.submit(probe, entry, h, tmp)))
        for folder, lib, h, fut in jobs:
            ok, err = fut.result()
            if owned[lib] == folder:
                if not ok:
                    fail("src/%s/ wraps %s but cannot include <%s>:\n%s" % (folder, lib, h, err))
            elif ok:
                fail("src/%s/ can include <%s> although only src/%s/ may use %s" % (folder, h, owned[lib], lib))
            elif "belongs to src/%s/" % owned[lib] not in err:
                fail("<%s> in src/%s/ failed, but not with the fence message:\n%s" % (h, folder, err))
    print("headers: %d probes over %d contexts" % (len(jobs), len(ctx)))


def declared_graph(build):
    graph = {}
    with open(os.path.join(build, "folder_deps.txt")) as f:
        for line in f:
            name, _, deps = line.strip().partition(":")
            graph[name] = set(d for d in deps.strip().split(";") if d)
    return graph


def check_acyclic(graph):
    state, seen = {}, set()

    def visit(n, path):
        if state.get(n) == "done":
            return
        if state.get(n) == "active":
            cycle = path[path.index(n) :] + [n]
            if frozenset(cycle) not in seen:
                seen.add(frozenset(cycle))
                fail("folder dependency cycle: " + " -> ".join(cycle))
            return
        state[n] = "active"
        for d in sorted(graph.get(n, ())):
            visit(d, path + [n])
        state[n] = "done"

    for n in sorted(graph):
        visit(n, [])


def check_includes(graph, source):
    pat = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
    for folder, deps in graph.items():
        for path in glob.glob(os.path.join(source, "src", folder, "**", "*.[ch]"), recursive=True):
            with open(path) as f:
                for used in set(pat.findall(f.read())):
                    if used != folder and used not in deps:
                        fail("%s includes %s/ but src/CMakeLists.txt does not list it in %s's DEPS" %
                             (os.path.relpath(path, source), used, folder))


def check_links(graph, build):
    defined, undefined = {}, collections.defaultdict(set)
    for folder in graph:
        libs = glob.glob(os.path.join(build, "src", "libdd_%s.a" % folder))
        if not libs:
            fail("no library built for src/%s/" % folder)
            continue
        out = subprocess.run(["nm", "-g", libs[0]], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBRCVW":
                defined[p[2]] = folder
            elif len(p) == 2 and p[0] == "U":
                undefined[folder].add(p[1])
    for folder, syms in undefined.items():
        for s in sorted(syms):
            owner = defined.get(s)
            if owner and owner != folder and owner not in graph[folder]:
                fail("src/%s/ calls %s() of src/%s/, which is not in its DEPS" % (folder, s, owner))


def main():
    build, source = sys.argv[1], sys.argv[2]
    ctx = contexts(build, source)
    graph = declared_graph(build)
    for folder in list(graph) + ["main"]:
        if folder not in ctx:
            fail("no compile command for src/%s/ in compile_commands.json" % folder)
    for folder in OWNERS:
        if folder not in graph:
            fail("src/%s/ is not a library of its own" % folder)
    check_headers(ctx)
    check_acyclic(graph)
    check_includes(graph, source)
    check_links(graph, build)
    print("folders: %s" % ", ".join("%s(%s)" % (f, " ".join(sorted(d))) for f, d in sorted(graph.items())))
    if failures:
        print("%d boundary violation(s)" % len(failures))
        return 1
    print("boundaries hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
