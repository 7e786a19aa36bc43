// A stand-in for the application, driven by the test: keeps connections open (by name) and runs SQL on
// them, one JSON request per line on stdin ({op: "open", name, file} | {op: "exec", name, sql} |
// {op: "close", name}); answers each with one line, "ok" or the error's message. Its connections never
// checkpoint, so their writes stay in the -wal as an application's do between checkpoints.
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';

const connections = new Map();
const answer = (text) => process.stdout.write(`${text.replace(/\n/g, ' ')}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  try {
    const request = JSON.parse(line);
    if (request.op === 'open') {
      const db = new DatabaseSync(request.file, { timeout: 5000 });
      db.exec('PRAGMA wal_autocheckpoint = 0');
      connections.set(request.name, db);
    } else if (request.op === 'exec') {
      connections.get(request.name).exec(request.sql);
    } else if (request.op === 'close') {
      connections.get(request.name).close();
      connections.delete(request.name);
    } else {
      throw new Error(`unknown request ${line}`);
    }
    answer('ok');
  } catch (error) {
    answer(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
}
for (const db of connections.values()) db.close();
