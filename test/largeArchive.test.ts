import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { DEFAULT_CONFIG_TEXT } from '../src/core/workspaceConfig';
import { createWorkspaceContext } from '../src/core/workspaceContext';
import { engine, tempDir } from './support/workspaces';

const FOUR_GIB = 2 ** 32;

/** SHA-256 of a file read in pieces (the files here are larger than any one buffer should be). */
function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(16 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let read; (read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

// ZIP64 for real, not only its structures (the other tests force ZIP64 records on small archives): a
// 4.4 GiB database, stored uncompressed, so that the entry, the archive and the offsets of the entries
// after it all pass 4 GiB. About a minute, and ~10 GB of disk for the time of the test.
describe('a database larger than 4 GiB', function () {
  this.timeout(10 * 60_000);

  it('backs up (full, then incremental) into ZIP64 archives that unzip and Python read, verifies and restores exactly', async () => {
    const root = tempDir('envprofiles-large-');
    try {
      fs.mkdirSync(path.join(root, '.envprofiles/profiles'), { recursive: true });
      fs.mkdirSync(path.join(root, 'data'));
      fs.writeFileSync(path.join(root, '.envprofiles/config.yaml'), DEFAULT_CONFIG_TEXT.replace('compression: fast', 'compression: store'));
      fs.writeFileSync(path.join(root, '.envprofiles/profiles/large.yaml'), 'profile:\n  id: large\n  name: Large\n  type: TESTING\n  databases:\n    archive: data/archive.sqlite3\n');
      const file = path.join(root, 'data/archive.sqlite3');
      const sqlite = await engine();
      const db = sqlite.open(file, { readOnly: false, create: true });
      try {
        // Nine 500 MiB blobs (zeros: quick to write) between small rows that the checks below can see.
        db.exec('PRAGMA page_size = 65536; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF');
        db.exec('CREATE TABLE parts (id INTEGER PRIMARY KEY, label TEXT NOT NULL, body BLOB NOT NULL)');
        db.exec('BEGIN');
        for (let i = 0; i < 9; i++) db.exec(`INSERT INTO parts (label, body) VALUES ('zeros ${i}', zeroblob(500 * 1048576)), ('random ${i}', randomblob(70000))`);
        db.exec('COMMIT');
        db.exec('PRAGMA journal_mode = WAL');
      } finally {
        db.close();
      }
      const started = Date.now();
      const mark = (what: string): void => void (process.env.ENVPROFILES_DEBUG === '1' && process.stderr.write(`      ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`));
      const size = fs.statSync(file).size;
      assert.ok(size > FOUR_GIB + 256 * 1048576, `the database is ${size} bytes`);

      const context = createWorkspaceContext(root, sqlite);
      const full = await createBackup(context, { profileId: 'large', kind: 'full' });
      assert.ok(full.entry.sizeBytes > FOUR_GIB, `the archive is ${full.entry.sizeBytes} bytes`);
      mark('full backup');
      assert.equal(spawnSync('unzip', ['-tq', full.archive], { encoding: 'utf8' }).status, 0, 'unzip -t');
      const python = spawnSync('python3', ['-c', [
        'import sys, json, zipfile',
        'z = zipfile.ZipFile(sys.argv[1])',
        'assert z.testzip() is None',
        'print(json.dumps({"entries": [[i.filename, i.header_offset, i.file_size] for i in z.infolist()], "manifest": json.loads(z.read("manifest.json"))["backupId"]}))',
      ].join('\n'), full.archive], { encoding: 'utf8', maxBuffer: 16 << 20 });
      assert.equal(python.status, 0, python.stderr);
      mark('unzip -t and Python zipfile');
      const listing = JSON.parse(python.stdout) as { entries: [string, number, number][]; manifest: string };
      assert.equal(listing.manifest, full.entry.id);
      assert.deepEqual(listing.entries.find(([name]) => name === 'db/archive.sqlite3')?.[2], size);
      assert.ok(listing.entries.some(([, offset]) => offset > FOUR_GIB), 'entries that start beyond 4 GiB');

      // A small change, then an incremental over the large full: it is rebuilt through the chain.
      const writer = sqlite.open(file, { readOnly: false });
      try {
        writer.exec("UPDATE parts SET label = 'changed' WHERE label = 'random 8'");
      } finally {
        writer.close();
      }
      const incremental = await createBackup(context, { profileId: 'large', kind: 'incremental' });
      assert.equal(incremental.entry.kind, 'incremental');
      assert.ok(incremental.databases[0].pagesStored < 10, `${incremental.databases[0].pagesStored} pages stored`);
      mark('incremental backup');
      const verification = await verifyBackup(context, incremental.entry.id);
      assert.equal(verification.ok, true, JSON.stringify(verification));

      mark('verify');
      await restoreBackup(context, { reference: incremental.entry.id, asNew: 'large_copy' });
      mark('restore');
      const restoredFile = path.join(root, 'data/large_copy/archive.sqlite3');
      assert.equal(fs.statSync(restoredFile).size, incremental.databases[0].pageCount * 65536);
      assert.equal(fileSha256(restoredFile), verification.databases[0].sha256, 'the restored file is the one verify rebuilt');
      const restored = sqlite.open(restoredFile, { readOnly: true });
      try {
        assert.equal(restored.all('PRAGMA integrity_check')[0].integrity_check, 'ok');
        assert.deepEqual({ ...restored.all("SELECT count(*) AS n, sum(length(body)) AS bytes FROM parts WHERE label = 'changed'")[0] }, { n: 1, bytes: 70000 });
        assert.equal(restored.all('SELECT count(*) AS n FROM parts')[0].n, 18);
      } finally {
        restored.close();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
