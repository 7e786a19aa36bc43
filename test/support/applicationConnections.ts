import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './workspaces';

/** The application, in a process of its own (test/support/applicationProcess.mjs): the connections it keeps open, by the database's name in the profile. */
export class Application {
  /** Logical name to the connection's name in the process (the file it opened). */
  private readonly connections = new Map<string, string>();
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(answer: string) => void> = [];

  constructor() {
    this.child = spawn(process.execPath, [path.join(REPO_ROOT, 'test/support/applicationProcess.mjs')]);
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  /** The names of the databases it has open. */
  get open(): string[] {
    return [...this.connections.keys()];
  }

  async openDatabase(name: string, file: string): Promise<void> {
    await this.request({ op: 'open', name: file, file }, name);
    this.connections.set(name, file);
  }

  exec(name: string, sql: string): Promise<void> {
    return this.request({ op: 'exec', name: this.connections.get(name) as string, sql }, name);
  }

  async close(name?: string): Promise<void> {
    for (const [key, file] of [...this.connections]) {
      if (name !== undefined && key !== name) continue;
      await this.request({ op: 'close', name: file }, key);
      this.connections.delete(key);
    }
  }

  /** Its connection to `from` is now known by the name `to` (the database was renamed in the profile). */
  renamed(from: string, to: string): void {
    const file = this.connections.get(from);
    if (file === undefined) return;
    this.connections.delete(from);
    this.connections.set(to, file);
  }

  private async request(request: { op: string; name: string; file?: string; sql?: string }, logicalName: string): Promise<void> {
    const answer = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
    if (answer !== 'ok') throw new Error(`the application's ${request.op} of ${logicalName}: ${answer}`);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}
