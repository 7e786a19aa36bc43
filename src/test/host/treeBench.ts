// Benchmark inside a real extension host (npm run bench): activation, the first level of a tree of 50
// profiles with 100 backups each, expanding one profile's backups, and a full refresh from disk.
import * as vscode from 'vscode';
import type { EnvironmentProfilesApi } from '../../extension';
import type { TreeNode } from '../../tree/treeNode';
import { SUITE_RESULT } from './suiteResult';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(runs: number, action: () => void): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    action();
    samples.push(performance.now() - started);
  }
  return samples;
}

export async function run(): Promise<void> {
  const started = performance.now();
  const extension = vscode.extensions.getExtension<EnvironmentProfilesApi>('env-profiles.env-profiles');
  if (!extension) throw new Error('extension not found');
  const api = await extension.activate();
  const activationWall = performance.now() - started;
  const render = (nodes: TreeNode[]): void => {
    for (const node of nodes) node.getTreeItem();
  };
  const firstLevel = time(30, () => render(api.tree.getChildren() as TreeNode[]));
  const profiles = api.tree.getChildren() as TreeNode[];
  const backupsSection = (): TreeNode => profiles[0].getChildren()[2];
  const backups = time(30, () => render(backupsSection().getChildren()));
  const folder = api.services.model.all()[0];
  const refresh = time(10, () => folder.refresh());
  const result = {
    profiles: profiles.length,
    backupsPerProfile: backupsSection().getChildren().length,
    activationMs: api.activatedInMs,
    activationWallMs: activationWall,
    firstLevelMedianMs: median(firstLevel),
    firstLevelMaxMs: Math.max(...firstLevel),
    backupsExpandMedianMs: median(backups),
    refreshMedianMs: median(refresh),
  };
  console.log(`ENVPROFILES_BENCH ${JSON.stringify(result)}`);
  // Its end, as a suite's (see suiteResult.ts).
  console.log(`${SUITE_RESULT} failures=0 passes=1 tests=1`);
}
