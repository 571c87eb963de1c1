#!/usr/bin/env python3
"""Counts the public API of a crate from rustdoc's JSON (scripts/public-items.sh makes it).

Walks the module tree from the crate root through public modules and `pub use` re-exports, and
prints: the public items (each reachable item once), the paths they are reachable by (an item
re-exported under a second path counts twice here), their public members (methods of inherent
impls, public fields, variants, trait items), and the items reachable by more than one path.
"""
import collections
import json
import sys

doc = json.load(open(sys.argv[1]))
index = doc["index"]


def item(id_):
    return index.get(str(id_))


def public(it):
    return it.get("visibility") == "public"


paths = collections.defaultdict(list)


def walk(module_id, prefix):
    module = item(module_id)
    for child_id in module["inner"]["module"]["items"]:
        child = item(child_id)
        if child is None or not public(child):
            continue
        kind, body = next(iter(child["inner"].items()))
        if kind == "use":
            target = body.get("id")
            if target is None or item(target) is None:
                continue  # a re-export from another crate
            name = body["name"]
            if body.get("is_glob"):
                walk(target, prefix)
                continue
            tkind = next(iter(item(target)["inner"]))
            if tkind == "module":
                walk(target, prefix + [name])
            else:
                paths[str(target)].append("::".join(prefix + [name]))
        elif kind == "module":
            walk(child_id, prefix + [child["name"]])
        else:
            paths[str(child_id)].append("::".join(prefix + [child["name"]]))


def members(it):
    kind, body = next(iter(it["inner"].items()))
    ids = []
    if kind == "struct":
        shape = body["kind"]
        if isinstance(shape, dict):
            fields = shape.get("plain", {}).get("fields") or shape.get("tuple") or []
            ids += [f for f in fields if f is not None and public(item(f))]
    if kind == "enum":
        ids += body["variants"]
    if kind == "trait":
        ids += body["items"]
    for impl_id in body.get("impls", []) if isinstance(body, dict) else []:
        impl = item(impl_id)["inner"]["impl"]
        if impl.get("trait") is None and not impl.get("is_synthetic") and impl.get("blanket_impl") is None:
            ids += [i for i in impl["items"] if public(item(i))]
    return len(ids)


walk(doc["root"], [])
kinds = collections.Counter(next(iter(item(i)["inner"])) for i in paths)
total_members = sum(members(item(i)) for i in paths)
print(f"items: {len(paths)}  paths: {sum(map(len, paths.values()))}  members: {total_members}")
print("by kind:", dict(sorted(kinds.items())))
for i, p in sorted(paths.items(), key=lambda kv: kv[1]):
    if len(p) > 1:
        print("  more than one path:", ", ".join(p))
