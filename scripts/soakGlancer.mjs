// A reader beside `npm run soak`, as VS Code's tree is when a profile is expanded: every 20-300 ms it
// opens each of the given databases read-only, reads its schema and closes it again within 0-50 ms.
// A restore or a delete --delete-data must not take it for an application that keeps a database open
// (and so be refused), nor be disturbed by it. Prints one JSON line: how many glances it made.
// Usage: node scripts/soakGlancer.mjs <seconds> <database>...
import { DatabaseSync } from 'node:sqlite';

const [seconds, ...files] = process.argv.slice(2);
const end = Date.now() + Number(seconds) * 1000;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let glances = 0;
while (Date.now() < end) {
  await pause(20 + Math.random() * 280);
  for (const file of files) {
    let db;
    try {
      db = new DatabaseSync(file, { readOnly: true, timeout: 5000 });
      db.prepare('SELECT name, sql FROM sqlite_schema').all();
      glances++;
    } catch {
      // Gone or being swapped (a restore, a delete): VS Code's tree shows that and looks again.
      db?.close();
      continue;
    }
    await pause(Math.random() * 50);
    db.close();
  }
}
process.stdout.write(`${JSON.stringify({ glances })}\n`);
