"""Writes variants of a real backup archive whose manifest has one field replaced by a value of another
kind (or removed), for the tests; prints what each variant changed, as JSON lines.

usage: manifestVariants.py SOURCE OUTDIR
"""
import json
import os
import sys
import zipfile

source, outdir = sys.argv[1], sys.argv[2]
src = zipfile.ZipFile(source)
manifest = json.loads(src.read('manifest.json'))
REMOVE = object()
# 'a' * 300: longer than a database name (64) or a file name (255 bytes) may be.
VALUES = [None, -1, 1.5, 'x', 'a' * 300, [], {}, REMOVE]

# One record of each role stands for the others (the same code reads them all).
firsts = {}
for index, record in enumerate(manifest['files']):
    firsts.setdefault(record['role'], index)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == 'segments':
                continue  # recompressed entries drop them (below)
            yield from paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if prefix == ('files',) and index not in firsts.values():
                continue
            yield from paths(inner, prefix + (index,))


def replaced(path, value):
    copy = json.loads(json.dumps(manifest))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is REMOVE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    # The entries are written again in one deflate stream each: their pieces no longer describe them.
    if isinstance(copy.get('files'), list):
        for record in copy['files']:
            if isinstance(record, dict):
                record.pop('segments', None)
    return copy


count = 0
for path in paths(manifest):
    if not path:
        continue
    for value in VALUES:
        dest = os.path.join(outdir, f'variant-{count}.zip')
        with zipfile.ZipFile(dest, 'w', zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                data = json.dumps(replaced(path, value)) if info.filename == 'manifest.json' else src.read(info.filename)
                out.writestr(info.filename, data)
        print(json.dumps({'file': dest, 'field': '/'.join(map(str, path)), 'value': 'removed' if value is REMOVE else value}))
        count += 1
