import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { integrityText } from '../src/core/sqlite/databaseIntegrity';
import { readSqliteHeader } from '../src/core/sqlite/sqliteHeader';
import { damagedDatabaseDetail, type EngineName, type SqliteEngine } from '../src/core/sqlite/sqliteEngine';
import { EnvProfilesError } from '../src/core/errors';
import { leaveHotJournal } from './support/crashedWriter';
import { bankWorkspace, startWriter, stopWriter, TOTAL } from './support/liveWriter';
import { engine, tempDir } from './support/workspaces';

/** Writes a database with the primary engine (node:sqlite), in the given journal mode, and checkpoints it. */
async function fixtureDatabase(file: string, journalMode: 'wal' | 'delete'): Promise<void> {
  const writer = (await engine('node:sqlite')).open(file, { readOnly: false, create: true });
  writer.exec(`PRAGMA journal_mode = ${journalMode}`);
  writer.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)');
  writer.exec('CREATE TABLE transfers (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts(id), amount INTEGER)');
  writer.exec("INSERT INTO accounts (owner, balance) VALUES ('아리', 100), ('bob', 250), (NULL, 0)");
  writer.close();
}

/** The fixture database with transfers to the accounts `missing`, which it does not have (foreign keys off, as some applications leave them). */
async function orphanedDatabase(file: string, missing: number[]): Promise<void> {
  await fixtureDatabase(file, 'delete');
  const writer = (await engine('node:sqlite')).open(file, { readOnly: false });
  writer.exec('PRAGMA foreign_keys = OFF');
  writer.exec(`INSERT INTO transfers (account_id, amount) VALUES ${missing.map((account) => `(${account}, 5)`).join(', ')}`);
  writer.close();
}

const ENGINES: EngineName[] = ['node:sqlite', 'sql.js'];

for (const name of ENGINES) {
  describe(`SQLite engine contract: ${name}`, () => {
    let sqlite: SqliteEngine;
    before(async () => {
      sqlite = await engine(name);
      assert.equal(sqlite.name, name);
    });

    it('reads rows, text (UTF-8), integers and NULL', async () => {
      const file = path.join(tempDir(), 'a.sqlite3');
      await fixtureDatabase(file, 'wal');
      const db = sqlite.open(file, { readOnly: true });
      const rows = db.all('SELECT owner, balance FROM accounts ORDER BY id');
      db.close();
      assert.deepEqual(rows.map((r) => ({ ...r })), [{ owner: '아리', balance: 100 }, { owner: 'bob', balance: 250 }, { owner: null, balance: 0 }]);
    });

    it('binds parameters', async () => {
      const file = path.join(tempDir(), 'a.sqlite3');
      await fixtureDatabase(file, 'delete');
      const db = sqlite.open(file, { readOnly: true });
      assert.equal(db.all('SELECT balance FROM accounts WHERE owner = ?', 'bob')[0].balance, 250);
      db.close();
    });

    it('writes, and the write is visible to the other engine', async () => {
      const file = path.join(tempDir(), 'w.sqlite3');
      await fixtureDatabase(file, 'delete');
      const db = sqlite.open(file, { readOnly: false });
      db.exec("INSERT INTO accounts (owner, balance) VALUES ('carol', 7)");
      db.close();
      const other = await engine(name === 'sql.js' ? 'node:sqlite' : 'sql.js');
      const check = other.open(file, { readOnly: true });
      assert.equal(check.all('SELECT count(*) AS n FROM accounts')[0].n, 4);
      check.close();
    });

    it('creates a new database file when asked, and refuses to open a missing one otherwise', () => {
      const dir = tempDir();
      assert.throws(() => sqlite.open(path.join(dir, 'missing.sqlite3'), { readOnly: true }), /does not exist/);
      const db = sqlite.open(path.join(dir, 'new.sqlite3'), { readOnly: false, create: true });
      db.exec('CREATE TABLE t (x)');
      db.close();
      assert.ok(readSqliteHeader(path.join(dir, 'new.sqlite3')));
    });

    it('runs integrity_check and foreign_key_check, and finds a violation', async () => {
      const file = path.join(tempDir(), 'fk.sqlite3');
      await fixtureDatabase(file, 'delete');
      const writer = (await engine('node:sqlite')).open(file, { readOnly: false });
      writer.exec('PRAGMA foreign_keys = OFF');
      writer.exec('INSERT INTO transfers (account_id, amount) VALUES (999, 5)');
      writer.close();
      const db = sqlite.open(file, { readOnly: true });
      assert.equal(db.all('PRAGMA integrity_check')[0].integrity_check, 'ok');
      const violations = db.all('PRAGMA foreign_key_check');
      db.close();
      assert.equal(violations.length, 1);
      assert.equal(violations[0].table, 'transfers');
      assert.equal(violations[0].parent, 'accounts');
    });

    it('checkIntegrity: ok for a sound file, counts foreign key violations, reports a scribbled page, and a file that is not a database', async () => {
      const dir = tempDir();
      const sound = path.join(dir, 'sound.sqlite3');
      await fixtureDatabase(sound, 'wal');
      assert.deepEqual(await sqlite.checkIntegrity(sound, { readOnly: true }), { problems: [], foreignKeyViolations: 0, foreignKeySample: [] });
      assert.deepEqual(await sqlite.checkIntegrity(sound, { readOnly: false }), { problems: [], foreignKeyViolations: 0, foreignKeySample: [] });

      const orphan = path.join(dir, 'orphan.sqlite3');
      await orphanedDatabase(orphan, [998, 999]);
      const two = await sqlite.checkIntegrity(orphan, { readOnly: true });
      assert.deepEqual({ ...two, foreignKeySample: two.foreignKeySample.map((line) => line.replace(/row \d+/, 'row R')) }, { problems: [], foreignKeyViolations: 2, foreignKeySample: ['transfers row R -> accounts', 'transfers row R -> accounts'] });
      // Many orphans are counted, not listed (the checking thread's heap is small).
      const more = (await engine('node:sqlite')).open(orphan, { readOnly: false });
      more.exec('PRAGMA foreign_keys = OFF');
      more.exec('WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 300000) INSERT INTO transfers (account_id, amount) SELECT 1000 + i, i FROM s');
      more.close();
      const many = await sqlite.checkIntegrity(orphan, { readOnly: false });
      assert.equal(many.foreignKeyViolations, 300002);
      assert.equal(many.foreignKeySample.length, 3, 'a sample of three, not the list');

      const damaged = path.join(dir, 'damaged.sqlite3');
      const builder = (await engine('node:sqlite')).open(damaged, { readOnly: false, create: true });
      builder.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000) INSERT INTO t (note) SELECT printf('%0200d', i) FROM s");
      builder.close();
      const bytes = fs.readFileSync(damaged);
      const pageSize = bytes.readUInt16BE(16);
      // Scribble over the middle of a data page: the header stays readable, the b-tree does not.
      bytes.fill(0xa5, pageSize * 20 + 8, pageSize * 20 + 600);
      fs.writeFileSync(damaged, bytes);
      const report = await sqlite.checkIntegrity(damaged, { readOnly: true });
      assert.ok(report.problems.length > 0);
      assert.match(integrityText(report), /page 21/);
      assert.ok(report.problems.every((line) => !line.startsWith('*** in database')), 'no heading lines among the problems');

      const junk = path.join(dir, 'junk.sqlite3');
      fs.writeFileSync(junk, 'this is not a database, just text long enough to fill a header.'.repeat(4));
      const notDatabase = await sqlite.checkIntegrity(junk, { readOnly: true });
      assert.match(notDatabase.problems.join('; '), /^SQLite stopped integrity_check at what it cannot read past: .*(file is not a database|malformed)/);
    });

    it('checkIntegrity of many files, at once and one after another: each report is its own file\'s (node:sqlite reuses its checking threads)', async () => {
      const dir = tempDir();
      const sound = path.join(dir, 'sound.sqlite3');
      await fixtureDatabase(sound, 'wal');
      const orphan = path.join(dir, 'orphan.sqlite3');
      await orphanedDatabase(orphan, [998]);
      const junk = path.join(dir, 'junk.sqlite3');
      fs.writeFileSync(junk, 'not a database, text long enough to fill a header. '.repeat(4));
      const summary = (report: { problems: string[]; foreignKeyViolations: number }): string => (report.problems.length > 0 ? 'damaged' : `fk ${report.foreignKeyViolations}`);
      const expected = { [sound]: 'fk 0', [orphan]: 'fk 1', [junk]: 'damaged' };
      const files = Array.from({ length: 24 }, (_, i) => [sound, orphan, junk][i % 3]);
      const together = await Promise.all(files.map((file) => sqlite.checkIntegrity(file, { readOnly: true })));
      assert.deepEqual(together.map(summary), files.map((file) => expected[file]));
      const inTurn: string[] = [];
      for (const file of files) inTurn.push(summary(await sqlite.checkIntegrity(file, { readOnly: true })));
      assert.deepEqual(inTurn, files.map((file) => expected[file]));
      // A folder cannot be opened: an error of its own check, which leaves the next check (on the same thread) alone.
      await assert.rejects(async () => sqlite.checkIntegrity(dir, { readOnly: false }));
      assert.equal(summary(await sqlite.checkIntegrity(orphan, { readOnly: true })), 'fk 1');
    });

    it('checkIntegrity: damage SQLite stops a check at (page 1\'s b-tree header, a schema that does not parse, a schema format it does not know) is a problem found, not an error', async () => {
      const dir = tempDir();
      const pageOneBroken = path.join(dir, 'page-one.sqlite3');
      await fixtureDatabase(pageOneBroken, 'wal');
      const bytes = fs.readFileSync(pageOneBroken);
      bytes[100] = 0x77; // page 1's b-tree page type: no such type
      fs.writeFileSync(pageOneBroken, bytes);
      const unparsable = path.join(dir, 'schema.sqlite3');
      await fixtureDatabase(unparsable, 'delete');
      // The table's CREATE statement in sqlite_schema, its closing parenthesis made a comma (same length: the record stays whole).
      const schemaBytes = fs.readFileSync(unparsable);
      const statement = 'CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)';
      const at = schemaBytes.indexOf(statement);
      assert.ok(at > 0, 'the statement is stored as written');
      schemaBytes[at + statement.length - 1] = 0x2c;
      fs.writeFileSync(unparsable, schemaBytes);
      const unknownFormat = path.join(dir, 'format.sqlite3');
      await fixtureDatabase(unknownFormat, 'delete');
      const formatBytes = fs.readFileSync(unknownFormat);
      formatBytes.writeUInt32BE(255, 44); // the schema format number: SQLite knows 1 to 4
      fs.writeFileSync(unknownFormat, formatBytes);
      for (const [file, what] of [[pageOneBroken, /database disk image is malformed/], [unparsable, /malformed database schema \(accounts\)/], [unknownFormat, /unsupported file format/]] as const) {
        for (const readOnly of [true, false]) {
          const report = await sqlite.checkIntegrity(file, { readOnly });
          assert.equal(report.problems.length, 1, `${path.basename(file)}: ${report.problems.join('; ')}`);
          assert.match(report.problems[0], /^SQLite stopped integrity_check at what it cannot read past: /);
          assert.match(report.problems[0], what);
          assert.deepEqual([report.foreignKeyViolations, report.foreignKeySample], [0, []]);
        }
      }
    });

    it('refuses a file that is not a database', () => {
      const file = path.join(tempDir(), 'junk.sqlite3');
      fs.writeFileSync(file, 'this is not a database, just text long enough to fill a header.'.repeat(4));
      assert.throws(() => {
        const db = sqlite.open(file, { readOnly: true });
        try {
          db.all('SELECT * FROM sqlite_schema');
        } finally {
          db.close();
        }
      }, /not a database|file is not a database|malformed/i);
    });

    it('snapshots a database into a new file that keeps the page layout and content', async () => {
      const dir = tempDir();
      const file = path.join(dir, 's.sqlite3');
      await fixtureDatabase(file, 'wal');
      const copy = path.join(dir, 'copy.sqlite3');
      const { pages, rolledBackJournal } = await sqlite.snapshot(file, copy);
      assert.equal(rolledBackJournal, false);
      const header = readSqliteHeader(copy);
      assert.ok(header);
      assert.equal(pages, header.pageCount);
      assert.equal(header.writeVersion, 2, 'the copy keeps WAL mode');
      const db = sqlite.open(copy, { readOnly: true });
      assert.equal(db.all('SELECT sum(balance) AS s FROM accounts')[0].s, 350);
      db.close();
      await assert.rejects(sqlite.snapshot(file, copy), /already exists/);
    });

    it('a snapshot of a file whose header SQLite refuses (a payload fraction of 0) fails as damage (before, sql.js copied it, and the backup held a database no SQLite opens)', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'refused.sqlite3');
      await fixtureDatabase(file, 'delete');
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.from([0]), 0, 1, 21);
      fs.closeSync(fd);
      const copy = path.join(dir, 'copy.sqlite3');
      await assert.rejects(sqlite.snapshot(file, copy), (error: unknown) => damagedDatabaseDetail(error) === 'SQLite: file is not a database');
    });

    it('a write through a symbolic link changes the file it leads to, and the link stays a link (before, sql.js replaced the link with a file)', async () => {
      const dir = tempDir();
      const real = path.join(dir, 'real.sqlite3');
      await fixtureDatabase(real, 'delete');
      const link = path.join(dir, 'link.sqlite3');
      fs.symlinkSync('real.sqlite3', link);
      const db = sqlite.open(link, { readOnly: false });
      db.exec("INSERT INTO accounts (owner, balance) VALUES ('carol', 7)");
      db.close();
      assert.ok(fs.lstatSync(link).isSymbolicLink(), 'still a link');
      const reread = sqlite.open(real, { readOnly: true });
      assert.equal(reread.all('SELECT sum(balance) AS s FROM accounts')[0].s, 357);
      reread.close();
    });

    it('snapshots an empty file as an empty database, and a file with bytes after its last whole page as its whole pages (before, under sql.js, a backup of either failed)', async () => {
      const dir = tempDir();
      const empty = path.join(dir, 'empty.sqlite3');
      fs.writeFileSync(empty, '');
      const emptyCopy = path.join(dir, 'empty-copy.sqlite3');
      await sqlite.snapshot(empty, emptyCopy);
      const emptyHeader = readSqliteHeader(emptyCopy);
      assert.ok(emptyHeader, 'the snapshot is a database');
      assert.equal(fs.statSync(emptyCopy).size % emptyHeader.pageSize, 0);
      const reopened = sqlite.open(emptyCopy, { readOnly: true });
      assert.deepEqual(reopened.all("SELECT count(*) AS n FROM sqlite_schema")[0].n, 0);
      reopened.close();

      const trailing = path.join(dir, 'trailing.sqlite3');
      await fixtureDatabase(trailing, 'delete');
      const whole = fs.statSync(trailing).size;
      fs.appendFileSync(trailing, Buffer.alloc(5000, 0x13));
      const copy = path.join(dir, 'trailing-copy.sqlite3');
      const { pages } = await sqlite.snapshot(trailing, copy);
      const header = readSqliteHeader(copy);
      assert.ok(header);
      assert.equal(fs.statSync(copy).size, pages * header.pageSize, 'whole pages only');
      assert.ok(fs.statSync(copy).size >= whole);
      const db = sqlite.open(copy, { readOnly: true });
      assert.equal(db.all('SELECT sum(balance) AS s FROM accounts')[0].s, 350);
      db.close();
    });

    it('a header whose page size is not one SQLite knows (0, 1000) is no SQLite header (before, sql.js took a page size of 0 and a backup failed as "a bug")', () => {
      const file = path.join(tempDir(), 'page-size.sqlite3');
      for (const raw of [0, 1000, 256]) {
        const bytes = Buffer.alloc(4096);
        bytes.write('SQLite format 3\0', 0, 'latin1');
        bytes.writeUInt16BE(raw, 16);
        fs.writeFileSync(file, bytes);
        assert.equal(readSqliteHeader(file), undefined, String(raw));
      }
      for (const [raw, size] of [[1, 65536], [512, 512], [4096, 4096], [32768, 32768]]) {
        const bytes = Buffer.alloc(4096);
        bytes.write('SQLite format 3\0', 0, 'latin1');
        bytes.writeUInt16BE(raw, 16);
        fs.writeFileSync(file, bytes);
        assert.equal(readSqliteHeader(file)?.pageSize, size, String(raw));
      }
    });

    it('a hot journal (a writer killed mid-transaction): never read as it is; node:sqlite rolls it back for a snapshot, sql.js refuses', async () => {
      const file = path.join(tempDir(), 'crashed.sqlite3');
      await fixtureDatabase(file, 'delete');
      leaveHotJournal(file);
      const copy = `${file}.copy`;
      if (name === 'sql.js') {
        await assert.rejects(sqlite.snapshot(file, copy), (error: unknown) => error instanceof EnvProfilesError && error.code === 'WAL_NOT_EMPTY' && /unfinished rollback journal/.test(error.message));
        assert.ok(!fs.existsSync(copy));
        return;
      }
      assert.throws(() => sqlite.open(file, { readOnly: true }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'HOT_JOURNAL' && error.file === file && /unfinished transaction/.test(error.message));
      const { rolledBackJournal } = await sqlite.snapshot(file, copy);
      assert.equal(rolledBackJournal, true);
      for (const db of [sqlite.open(copy, { readOnly: true }), sqlite.open(file, { readOnly: true })]) {
        assert.deepEqual({ ...db.all('SELECT count(*) AS n, sum(balance) AS s FROM accounts')[0] }, { n: 3, s: 350 }, 'the committed state');
        assert.equal(db.all("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'uncommitted'")[0].n, 0);
        assert.equal(db.all('PRAGMA integrity_check')[0].integrity_check, 'ok');
        db.close();
      }
      assert.ok(!fs.existsSync(`${file}-journal`), 'the journal was played back and removed');
      assert.equal((await sqlite.snapshot(file, `${file}.again`)).rolledBackJournal, false);
    });

    // sql.js takes no locks: it reads the file again until one read saw no write, so it needs moments
    // without one (a commit every 40 ms here); node:sqlite takes its lock between commits 1 ms apart.
    it(`snapshots of a rollback-journal database while a writer commits (${name === 'sql.js' ? 'every 40 ms' : 'all the time'}): each is one committed state, never a mix of two`, async function () {
      this.timeout(120000);
      const root = await bankWorkspace();
      const file = path.join(root, 'data/live/bank.sqlite3');
      const node = await engine('node:sqlite');
      const setup = node.open(file, { readOnly: false });
      setup.exec('PRAGMA journal_mode = DELETE');
      // 20 MB between the accounts (at the start of the file) and the transfers (appended at its end):
      // reading the file takes long enough for commits to land in the middle of it.
      setup.exec('CREATE TABLE filler (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO filler SELECT randomblob(4000) FROM n');
      setup.close();
      const writer = await startWriter(file, 'delete', name === 'sql.js' ? 40 : 1);
      const copies = tempDir();
      let taken = 0;
      let refused = 0;
      let summary = { transactions: 0, errors: 0 };
      try {
        // Three seconds of copies, at most 100; on a slow machine (a sql.js copy of 20 MB has taken over
        // a second under load) longer, until five are taken or 30 s have passed.
        const until = Date.now() + 3000;
        const latest = Date.now() + 30000;
        for (let i = 0; i < 100 && (Date.now() < until || (taken < 5 && Date.now() < latest)); i++) {
          const copy = path.join(copies, `copy-${i}.sqlite3`);
          try {
            await sqlite.snapshot(file, copy);
          } catch (error) {
            assert.ok(name === 'sql.js' && error instanceof EnvProfilesError && error.code === 'WAL_NOT_EMPTY', String(error));
            assert.ok(!fs.existsSync(copy));
            refused++;
            continue;
          }
          taken++;
          const db = node.open(copy, { readOnly: true });
          try {
            assert.equal(db.all('PRAGMA integrity_check')[0].integrity_check, 'ok', `copy ${i}`);
            assert.equal(db.all('SELECT sum(balance) AS s FROM accounts')[0].s, TOTAL, `copy ${i}: the sum of balances`);
            assert.equal(db.all('SELECT count(*) AS n FROM transfers')[0].n, db.all("SELECT value FROM counters WHERE name = 'transfers'")[0].value, `copy ${i}: transfers and their counter`);
          } finally {
            db.close();
          }
          fs.rmSync(copy);
        }
      } finally {
        summary = await stopWriter(writer);
      }
      assert.equal(summary.errors, 0, 'the writer never failed');
      assert.ok(summary.transactions > 30, `the writer kept committing (${summary.transactions})`);
      assert.ok(taken >= 5, `copies taken: ${taken}, refused: ${refused}`);
    });

    if (name === 'sql.js') {
      it('refuses a database whose -wal file holds committed data instead of reading stale data', async () => {
        const file = path.join(tempDir(), 'live.sqlite3');
        await fixtureDatabase(file, 'wal');
        const node = await engine('node:sqlite');
        const live = node.open(file, { readOnly: false });
        live.exec('PRAGMA wal_autocheckpoint = 0');
        live.exec("INSERT INTO accounts (owner, balance) VALUES ('in-wal-only', 1)");
        assert.ok(fs.statSync(`${file}-wal`).size > 0);
        try {
          assert.throws(() => sqlite.open(file, { readOnly: true }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'WAL_NOT_EMPTY' && /-wal/.test(error.message));
          await assert.rejects(sqlite.snapshot(file, `${file}.copy`), (error: unknown) => error instanceof EnvProfilesError && error.code === 'WAL_NOT_EMPTY');
        } finally {
          live.close();
        }
      });
    } else {
      it('reads committed data that is still only in the -wal file', async () => {
        const file = path.join(tempDir(), 'live.sqlite3');
        await fixtureDatabase(file, 'wal');
        const live = sqlite.open(file, { readOnly: false });
        live.exec('PRAGMA wal_autocheckpoint = 0');
        live.exec("INSERT INTO accounts (owner, balance) VALUES ('in-wal-only', 1)");
        assert.ok(fs.statSync(`${file}-wal`).size > 0);
        const reader = sqlite.open(file, { readOnly: true });
        assert.equal(reader.all("SELECT count(*) AS n FROM accounts WHERE owner = 'in-wal-only'")[0].n, 1);
        reader.close();
        const copy = `${file}.copy`;
        await sqlite.snapshot(file, copy);
        live.close();
        const check = sqlite.open(copy, { readOnly: true });
        assert.equal(check.all("SELECT count(*) AS n FROM accounts WHERE owner = 'in-wal-only'")[0].n, 1);
        check.close();
      });
    }
  });
}
