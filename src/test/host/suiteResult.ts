/**
 * The line that ends every host suite's output (`<SUITE_RESULT> failures=F passes=P tests=T`), read by
 * scripts/run-host-tests.mjs: an extension host that stops in the middle of a suite (a crash, a lost
 * connection) reports exit 0 too, and must not pass for a suite that passed.
 */
export const SUITE_RESULT = 'ENVPROFILES_SUITE_RESULT';
