/** What AgeRedraw redraws: the tree (only while it is on screen) and the status bar (always there). */
export interface AgeViews {
  treeVisible(): boolean;
  redrawTree(): void;
  redrawStatusBar(): void;
}

/**
 * Keeps the ages the tree and the status bar show ("last verified 3 s ago", "taken 2 h ago") true:
 * they are computed when drawn, and nothing else redraws them while no file changes, so an hour later
 * they still said "3 s ago". Every `intervalMs` it redraws the status bar, and the tree when it is
 * visible; a tree shown again is redrawn at once (`shown`).
 */
export class AgeRedraw {
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly views: AgeViews, intervalMs = 60_000) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    // A timer of its own must not keep a process alive.
    this.timer.unref?.();
  }

  /** The tree was shown again: what it shows may be an hour old. */
  shown(): void {
    this.views.redrawTree();
  }

  private tick(): void {
    this.views.redrawStatusBar();
    if (this.views.treeVisible()) this.views.redrawTree();
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
