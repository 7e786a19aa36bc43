import { isEnvProfilesError } from './errors';

/**
 * The checks that may refuse an operation. For real, a refusal is thrown as usual; in a dry run it is
 * collected in `wouldRefuse` (its message and what to do) and the check returns undefined, so that
 * the dry run can still show the whole plan and say everything that would refuse it now.
 */
export class RefusalChecks {
  readonly wouldRefuse: string[] = [];

  constructor(private readonly dryRun: boolean) {}

  check<T>(run: () => T): T | undefined {
    if (!this.dryRun) return run();
    try {
      return run();
    } catch (error) {
      return this.refused(error);
    }
  }

  /** `check` for a check that reads files as it goes. */
  async checkAsync<T>(run: () => Promise<T>): Promise<T | undefined> {
    if (!this.dryRun) return run();
    try {
      return await run();
    } catch (error) {
      return this.refused(error);
    }
  }

  private refused(error: unknown): undefined {
    if (!isEnvProfilesError(error)) throw error;
    this.wouldRefuse.push(error.hint ? `${error.message} ${error.hint}` : error.message);
    return undefined;
  }
}
