"""Writes damaged or hostile variants of a real backup archive, for the tests.

usage: craftZip.py SOURCE DEST MODE
"""
import hashlib
import json
import struct
import sys
import zipfile

source, dest, mode = sys.argv[1], sys.argv[2], sys.argv[3]

if mode == 'truncate':
    data = open(source, 'rb').read()
    open(dest, 'wb').write(data[: len(data) // 2])
    sys.exit(0)

def flip_bit_in(entry_of, at_start=False):
    """
    A byte-exact copy with one bit flipped in the middle of one entry's compressed data, or at its start
    (the first deflate block's type becomes the reserved 3: the entry cannot be inflated at all).
    """
    data = bytearray(open(source, 'rb').read())
    with zipfile.ZipFile(source) as z:
        info = z.getinfo(entry_of(z))
    name_len, extra_len = struct.unpack('<HH', data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    if at_start:
        assert info.compress_type == zipfile.ZIP_DEFLATED
        data[start] ^= 0x04
    else:
        data[start + info.compress_size // 2] ^= 0x10
    open(dest, 'wb').write(data)
    sys.exit(0)


def first_database(z):
    return next(f for f in json.loads(z.read('manifest.json'))['files'] if f['role'] == 'database')


if mode == 'flip':
    # In the first database's data, so the manifest's deflate pieces still describe the entry (the
    # reader inflates them in parallel).
    flip_bit_in(lambda z: first_database(z)['entry'])
if mode == 'flip-manifest':
    flip_bit_in(lambda z: 'manifest.json', at_start=True)
if mode == 'flip-page-index':
    flip_bit_in(lambda z: first_database(z)['pageIndexEntry'])  # stored: its SHA-256 no longer matches

if mode == 'flip-manifest-silently':
    # The first single bit flip in the manifest's deflate stream that still inflates to JSON, differing
    # from the real manifest only in its "consistency" note (a third of all flips inflate to JSON that
    # differs); a byte-exact copy otherwise, so only ZIP's CRC-32 of the entry tells.
    import zlib
    data = bytearray(open(source, 'rb').read())
    with zipfile.ZipFile(source) as z:
        info = z.getinfo('manifest.json')
        real = json.loads(z.read('manifest.json'))
    name_len, extra_len = struct.unpack('<HH', data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for bit in range(info.compress_size * 8):
        stream = bytearray(data[start: start + info.compress_size])
        stream[bit // 8] ^= 1 << (bit % 8)
        try:
            inflater = zlib.decompressobj(-15)
            flipped = json.loads(inflater.decompress(bytes(stream)))
        except Exception:
            continue
        if inflater.eof and isinstance(flipped, dict) and flipped.get('consistency') != real['consistency'] and {**flipped, 'consistency': real['consistency']} == real:
            data[start + bit // 8] ^= 1 << (bit % 8)
            open(dest, 'wb').write(data)
            print(flipped['consistency'])
            sys.exit(0)
    raise SystemExit('no flip of the manifest inflates to JSON differing only in its consistency note')

src = zipfile.ZipFile(source)
manifest = json.loads(src.read('manifest.json'))
first_db = next(f for f in manifest['files'] if f['role'] == 'database')
second_db = [f for f in manifest['files'] if f['role'] == 'database'][1]
profile_record = next((f for f in manifest['files'] if f['role'] == 'profile'), None)


def drop_segments(m):
    # Entries are recompressed here (one deflate stream each), so the deflate pieces the manifest lists no
    # longer describe them: they are dropped, and the reader inflates each entry in one stream.
    for f in m['files']:
        f.pop('segments', None)
    return m


def copy_all(out, skip=(), manifest_override=None, replaced=None):
    """Copies every entry (but `skip`), with the data of those in `replaced` and the manifest given."""
    for info in src.infolist():
        if info.filename in skip:
            continue
        data = replaced[info.filename] if replaced and info.filename in replaced else src.read(info.filename)
        if info.filename == 'manifest.json':
            data = json.dumps(manifest_override if manifest_override is not None else drop_segments(json.loads(data))).encode()
        out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


# Manifests that differ from the real one in one field: (record, field, value).
ONE_FIELD_LIES = {
    'profile-escape': (manifest, 'profileId', '../../escape'),
    'name-escape': (first_db, 'logicalName', '../escape'),
    # A file name with a terminal escape sequence in it: it would end up on disk and in messages.
    'control-path': (first_db, 'originalPath', 'data/dev/\x1b[2Jsettings.sqlite3'),
    # A reason that would retitle and clear the terminal it is printed in (a valid archive otherwise).
    'terminal-escape': (manifest, 'reason', 'manual\x1b]0;pwned\x07\x1b[2J'),
    # A reason with a right-to-left override: the rest of its line would read backwards.
    'bidi-reason': (manifest, 'reason', 'manual\u202e)deifirev( ko'),
    # An incremental's chain that names its ancestors over and over (it opened the full backup 20,000 times).
    'chain-repeat': (manifest, 'chain', manifest['chain'] * 20000),
    # A second database at the first one's file, reached through a folder link (data/devlink -> dev), as a
    # backup of a profile that listed one file twice was written before profiles refused that.
    'db-alias': (second_db, 'originalPath', 'data/devlink/' + first_db['originalPath'].split('/')[-1]),
    # A full backup that claims a chain.
    'full-with-chain': (manifest, 'chain', [manifest['backupId']]),
    # Fields of the wrong kind, as a damaged or hand-made manifest has them.
    'created-not-time': (manifest, 'createdAt', None),
    'created-date-only': (manifest, 'createdAt', '2026-12-03'),
    'reason-object': (manifest, 'reason', {}),
    'pages-stored-negative': (first_db, 'pagesStored', -1),
    'user-version-object': (first_db['sqlite'], 'userVersion', {'v': 3}),
    'journal-mode-unknown': (first_db['sqlite'], 'journalMode', 'memory'),
    # Of the right kind, but not what the database says (its SHA-256 still matches).
    'user-version-lie': (first_db['sqlite'], 'userVersion', first_db['sqlite']['userVersion'] + 1),
    'journal-mode-lie': (first_db['sqlite'], 'journalMode', 'delete' if first_db['sqlite']['journalMode'] == 'wal' else 'wal'),
    'format-version-object': (manifest, 'formatVersion', {'major': 2}),
    'page-index-sha-missing': (first_db, 'pageIndexSha256', None),
    # An empty name was taken for "no entry" by some readers and for a name by others.
    'entry-empty': (profile_record, 'entry', ''),
    # A name longer than a profile may give a database (it became a staging file's name in verify).
    'name-too-long': (first_db, 'logicalName', 'a' * 3000),
    # A database file name longer than file systems take (restore --as-new names the new file after it).
    'db-file-name-too-long': (first_db, 'originalPath', 'data/dev/' + 'a' * 300),
    # Two databases a profile cannot both have: both would be ENVPROFILE_DB_SETTINGS.
    'database-same-variable': (second_db, 'logicalName', first_db['logicalName'].upper()),
    # Values of the right kind that the manifest cannot hold: they were found sound, then refused by restore.
    'profile-path-empty': (profile_record, 'originalPath', ''),
    'profile-id-lie': (manifest, 'profileId', manifest['profileId'].upper()),
    # A database both in the archive and in its list of databases left out.
    'left-out-and-backed-up': (manifest, 'leftOut', [{'logicalName': first_db['logicalName'], 'originalPath': first_db['originalPath'], 'reason': 'it was damaged'}]),
}

# Copies of the profile file that no edit can make into another profile's (restore --as-new failed on
# them as "a bug"): YAML that does not parse, and a profile: or databases: that is not a mapping written out.
PROFILE_COPIES = {
    'profile-copy-not-yaml': lambda text: text + '\n  : : [\n',
    'profile-copy-key-twice': lambda text: text.replace('  type:', '  type: "BACKUP"\n  type:', 1),
    'profile-copy-list': lambda text: '- a\n- b\n',
    'profile-copy-alias': lambda text: 'x: &p\n' + ''.join('  ' + line + '\n' for line in text.split('\n')[text.split('\n').index('profile:') + 1:]) + 'profile: *p\n',
    'profile-copy-databases-list': lambda text: text.replace('  databases:\n', '  databases: [a, b]\n  old_databases:\n', 1),
    # A copy that validates but puts a database elsewhere than the manifest says it was found (a backup
    # reads the profile file again to archive it: an edit made meanwhile gives this).
    'profile-copy-elsewhere': lambda text: text.replace('/settings.sqlite3"', '/settings_v2.sqlite3"', 1),
}

with zipfile.ZipFile(dest, 'w', zipfile.ZIP_DEFLATED) as out:
    if mode == 'dotdot':
        copy_all(out)
        out.writestr('../escape.txt', b'outside')
    elif mode == 'many-entries':
        # More entries than any backup holds: refused before they are read (600,000 took 53 s and 517 MB to read).
        copy_all(out)
        for i in range(100_001):
            out.writestr(zipfile.ZipInfo(f'many/{i}'), b'')
    elif mode == 'folder-entry':
        # A folder entry, as "zip -r" or a file manager adds: no backup has one.
        copy_all(out)
        out.writestr(zipfile.ZipInfo('extra/'), b'')
    elif mode == 'dot-segment':
        copy_all(out)
        out.writestr('./x.txt', b'x')
    elif mode == 'absolute':
        copy_all(out)
        out.writestr('/tmp/envprofiles-absolute.txt', b'outside')
    elif mode == 'drive':
        copy_all(out)
        out.writestr('C:/envprofiles-drive.txt', b'outside')
    elif mode == 'symlink':
        copy_all(out)
        info = zipfile.ZipInfo('files/link')
        info.external_attr = (0o120777 << 16)
        out.writestr(info, b'/etc/passwd')
    elif mode == 'duplicate':
        copy_all(out)
        out.writestr(first_db['entry'], b'second copy')
    elif mode == 'unlisted':
        copy_all(out)
        out.writestr('extra.txt', b'not in the manifest')
    elif mode == 'size-lie':
        first_db['entrySize'] += 1
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode == 'newer-format':
        manifest['formatVersion'] = 9
        copy_all(out, manifest_override=manifest)
    elif mode == 'sha-lie':
        first_db['entrySha256'] = '0' * 64
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode == 'drop-page':
        # An incremental whose pages entry lost its first page, with a manifest that agrees with the
        # entry (size, SHA-256): only the check of the rebuilt file against the page index can tell.
        record = next(f for f in manifest['files'] if f['role'] == 'database' and f['storage'] == 'pages' and f['pagesStored'] > 0)
        page_record = 4 + record['sqlite']['pageSize']
        pages = src.read(record['entry'])[page_record:]
        record['entrySize'] = len(pages)
        record['entrySha256'] = hashlib.sha256(pages).hexdigest()
        record['pagesStored'] -= 1
        copy_all(out, manifest_override=drop_segments(manifest), replaced={record['entry']: pages})
    elif mode in ('file-escape', 'file-into-store'):
        # A file record (and its entry) whose original path leads out of the workspace, or into the
        # tool's own folder (over its config.yaml).
        content = b'written outside'
        target = '../escape-file.txt' if mode == 'file-escape' else '.envprofiles/config.yaml'
        manifest['files'].append({'role': 'file', 'originalPath': target, 'size': len(content), 'sha256': hashlib.sha256(content).hexdigest(), 'entry': 'files/escape-file.txt'})
        copy_all(out, manifest_override=drop_segments(manifest))
        out.writestr('files/escape-file.txt', content)
    elif mode == 'index-lie':
        # A page index that does not describe its image (page 2's hash changed), with a manifest that
        # agrees with the index entry: the image still matches its SHA-256.
        index = bytearray(src.read(first_db['pageIndexEntry']))
        index[16] ^= 0xff
        first_db['pageIndexSha256'] = hashlib.sha256(index).hexdigest()
        copy_all(out, manifest_override=drop_segments(manifest), replaced={first_db['pageIndexEntry']: bytes(index)})
    elif mode == 'header-not-database':
        # A whole image whose first bytes are not a SQLite header, with a manifest and page index that
        # agree with it: only a look at the rebuilt file's header tells (a restore put it back before).
        image = bytearray(src.read(first_db['entry']))
        image[:16] = b'NOT A DATABASE!!'
        page_size = first_db['sqlite']['pageSize']
        index = bytearray(src.read(first_db['pageIndexEntry']))
        index[:16] = hashlib.sha256(image[:page_size]).digest()[:16]
        first_db['entrySha256'] = first_db['sha256'] = hashlib.sha256(image).hexdigest()
        first_db['pageIndexSha256'] = hashlib.sha256(index).hexdigest()
        copy_all(out, manifest_override=drop_segments(manifest), replaced={first_db['entry']: bytes(image), first_db['pageIndexEntry']: bytes(index)})
    elif mode == 'pages-stored-lie':
        # An incremental that says it holds more changed pages than its entry does: planning a rebuild
        # trusted the count (a chain could claim more than it held).
        record = next(f for f in manifest['files'] if f['role'] == 'database' and f['storage'] == 'pages')
        record['pagesStored'] += 1
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode in ('same-as-self', 'same-as-size-lie'):
        # An incremental's record of a file unchanged since an earlier backup that names a backup
        # without it (here: itself), or gives another size than that backup holds.
        unchanged = next(f for f in manifest['files'] if f['role'] != 'database' and f['entry'] is None)
        if mode == 'same-as-self':
            unchanged['sameAs'] = manifest['backupId']
        else:
            unchanged['size'] += 1
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode in PROFILE_COPIES:
        # The backup's copy of the profile file replaced, with a manifest that agrees with it (SHA-256, size).
        copy = PROFILE_COPIES[mode](src.read(profile_record['entry']).decode()).encode()
        profile_record['entrySize'] = profile_record['size'] = len(copy)
        profile_record['entrySha256'] = profile_record['sha256'] = hashlib.sha256(copy).hexdigest()
        copy_all(out, manifest_override=drop_segments(manifest), replaced={profile_record['entry']: copy})
    elif mode in ('file-twice', 'profile-twice'):
        # A second record for the profile file: as a file of files: (the same path twice), or as a second
        # profile file; both records name the one entry. Both were restored onto one file.
        second = dict(profile_record)
        if mode == 'file-twice':
            second['role'] = 'file'
        else:
            second['originalPath'] = '.envprofiles/profiles/other_profile.yaml'
        manifest['files'].append(second)
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode == 'profile-record-dropped':
        # No copy of the profile file: a backup taken while the profile file was deleted has none.
        manifest['files'].remove(profile_record)
        copy_all(out, skip=(profile_record['entry'],), manifest_override=drop_segments(manifest))
    elif mode == 'database-twice':
        # One database listed twice: it was rebuilt, counted and restored twice.
        manifest['files'].append(dict(first_db))
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode == 'renamed-path-spelt-otherwise':
        # A database under a name the profile does not list, at its path spelt with a trailing slash: the
        # same file, renamed (a restore put it back, but also said that it had moved, which it had not).
        first_db['logicalName'] += '0'
        first_db['originalPath'] += '/'
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode in ONE_FIELD_LIES:
        record, field, value = ONE_FIELD_LIES[mode]
        record[field] = value
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode in ('image-size-claim', 'pages-size-claim'):
        # A database that claims many more pages than its entries hold (with a page index to match):
        # rebuilt as it says, it would be a huge sparse file.
        storage = 'image' if mode == 'image-size-claim' else 'pages'
        record = next(f for f in manifest['files'] if f['role'] == 'database' and f['storage'] == storage)
        record['sqlite']['pageCount'] += 1 << 18
        record['size'] = record['sqlite']['pageCount'] * record['sqlite']['pageSize']
        index = src.read(record['pageIndexEntry']) + bytes(16 << 18)
        record['pageIndexSha256'] = hashlib.sha256(index).hexdigest()
        copy_all(out, manifest_override=drop_segments(manifest), replaced={record['pageIndexEntry']: index})
    elif mode == 'legacy-absolute-file':
        # A backup of a files: path outside the workspace as earlier versions named its entry: "files//srv/…".
        record = next(f for f in manifest['files'] if f['role'] == 'file' and f.get('entry'))
        old_entry, record['entry'] = record['entry'], 'files/' + record['originalPath']
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == 'manifest.json':
                data = json.dumps(drop_segments(manifest)).encode()
            out.writestr(record['entry'] if info.filename == old_entry else info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    elif mode == 'modes-zero':
        # Every file recorded with no permission bits at all, as a damaged or hand-made manifest may have it.
        for f in manifest['files']:
            f['mode'] = 0
        copy_all(out, manifest_override=drop_segments(manifest))
    elif mode == 'segments-lie':
        # Recompressed entries, but the manifest keeps the original pieces: they no longer add up.
        copy_all(out, manifest_override=manifest)
    elif mode == 'manifest-bom':
        # The manifest as an editor that writes a byte order mark saves it (Notepad's "UTF-8 with BOM").
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == 'manifest.json':
                data = b'\xef\xbb\xbf' + json.dumps(drop_segments(manifest)).encode()
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    elif mode in ('flip-single-stream', 'bomb'):
        copy_all(out)
    else:
        raise SystemExit('unknown mode ' + mode)

if mode in ('flip-single-stream', 'bomb'):
    data = bytearray(open(dest, 'rb').read())
    with zipfile.ZipFile(dest) as z:
        info = z.getinfo(first_db['entry'])
    if mode == 'flip-single-stream':
        # Local header: 30 bytes + name + extra; flip a bit in the middle of the compressed data.
        name_len, extra_len = struct.unpack('<HH', data[info.header_offset + 26: info.header_offset + 30])
        start = info.header_offset + 30 + name_len + extra_len
        data[start + info.compress_size // 2] ^= 0x10
    else:
        # Central directory: declare an uncompressed size far beyond what deflate can produce.
        cd = data.rfind(b'PK\x01\x02' + bytes(), 0)
        pos = 0
        while True:
            pos = data.find(b'PK\x01\x02', pos)
            if pos < 0:
                raise SystemExit('entry not found')
            name_len = struct.unpack('<H', data[pos + 28: pos + 30])[0]
            if data[pos + 46: pos + 46 + name_len].decode() == first_db['entry']:
                struct.pack_into('<I', data, pos + 24, min(0xFFFFFFFE, max(info.compress_size, 1) * 5000))
                break
            pos += 4
    open(dest, 'wb').write(bytes(data))
