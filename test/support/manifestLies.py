"""Writes copies of a real backup archive whose manifest lies plausibly: one or two of its values are
replaced by values of the same kind (a count off by one, another record's SHA-256 or path, a list
with an item dropped, repeated or moved, a key removed), chosen by a seeded random generator. ZIP's
own checks (CRC-32, sizes) hold for every copy: only what the manifest says is false. Prints what
each copy changed, as JSON lines.

usage: manifestLies.py SOURCE OUTDIR SEED COUNT
"""
import json
import os
import random
import sys
import zipfile

source, outdir, seed, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
src = zipfile.ZipFile(source)
original = json.loads(src.read('manifest.json'))
entries = {info.filename: src.read(info.filename) for info in src.infolist()}


def places(value, prefix=()):
    """Every (path, value) below `value`; the deflate pieces are left out (the copies drop them)."""
    yield prefix, value
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != 'segments':
                yield from places(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from places(inner, prefix + (index,))


def same_kind_values(manifest, kind):
    return [v for _, v in places(manifest) if type(v) is kind]


def lie_about(manifest):
    """Changes one value of `manifest` in place; says how."""
    path, value = rng.choice([p for p in places(manifest) if p[0]])
    parent = manifest
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if isinstance(value, bool):
        parent[last] = not value
    elif isinstance(value, int):
        others = [v for v in same_kind_values(manifest, int) if v != value]
        parent[last] = rng.choice([value + 1, value - 1, value * 2, value // 2, 0, 2 ** 53] + others[:20])
    elif isinstance(value, str):
        others = [v for v in same_kind_values(manifest, str) if v != value]
        choices = [value[:-1] + ('0' if value[-1:] != '0' else '1')] + [rng.choice(others)] if others else [value + 'x']
        parent[last] = rng.choice(choices + [value.upper(), value + '/', ''])
    elif isinstance(value, list) and value:
        how = rng.randrange(3)
        if how == 0:
            value.pop(rng.randrange(len(value)))
        elif how == 1:
            value.append(json.loads(json.dumps(rng.choice(value))))
        else:
            rng.shuffle(value)
        return '/'.join(map(str, path)) + ' ' + ['lost an item', 'repeated an item', 'reordered'][how]
    elif isinstance(value, dict) and value:
        key = rng.choice(list(value))
        del value[key]
        return '/'.join(map(str, path)) + f' lost {key}'
    else:
        return None
    return '/'.join(map(str, path)) + f' = {json.dumps(parent[last])[:80]} (was {json.dumps(value)[:80]})'


for number in range(count):
    manifest = json.loads(json.dumps(original))
    told = []
    while len(told) < 1 + (rng.random() < 0.3):
        how = lie_about(manifest)
        if how:
            told.append(how)
    if manifest == original:
        continue
    for record in manifest.get('files', []) if isinstance(manifest.get('files'), list) else []:
        if isinstance(record, dict):
            record.pop('segments', None)
    dest = os.path.join(outdir, str(number), os.path.basename(source))
    os.makedirs(os.path.dirname(dest))
    with zipfile.ZipFile(dest, 'w', zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(name, json.dumps(manifest) if name == 'manifest.json' else data)
    print(json.dumps({'file': dest, 'how': '; '.join(told)}))
