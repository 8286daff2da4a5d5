/**
 * The mutant whose run has had a failing test, shared by bail-environment.js (which skips the rest
 * of that test file) and bail-runner.js (which skips the run's remaining test files). Both are
 * loaded with Node's own require in the Stryker test runner process, so they see one object.
 */
module.exports = { killed: undefined };
