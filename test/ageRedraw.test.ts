import * as assert from 'node:assert/strict';
import { AgeRedraw } from '../src/ageRedraw';

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the redraw that keeps the ages the tree and the status bar show true', () => {
  it('redraws the status bar on every tick, the tree only while it is visible and at once when shown again, and stops when disposed', async () => {
    let visible = false;
    const drawn = { tree: 0, statusBar: 0 };
    const redraw = new AgeRedraw({ treeVisible: () => visible, redrawTree: () => void drawn.tree++, redrawStatusBar: () => void drawn.statusBar++ }, 20);
    try {
      await wait(200);
      assert.ok(drawn.statusBar >= 2, `status bar drawn ${drawn.statusBar} times in 200 ms at 20 ms`);
      assert.equal(drawn.tree, 0, 'a hidden tree is not redrawn');
      visible = true;
      redraw.shown();
      assert.equal(drawn.tree, 1, 'shown again: redrawn at once');
      await wait(200);
      assert.ok(drawn.tree >= 3, `tree drawn ${drawn.tree} times while visible`);
    } finally {
      redraw.dispose();
    }
    const after = { ...drawn };
    await wait(80);
    assert.deepEqual(drawn, after, 'nothing after dispose');
  });
});
