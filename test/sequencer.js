/**
 * Jest's order (failed files first, then the longest), with the unit project's files before the
 * others: they deploy nothing, so they run while test/global-setup.js's warm-up packages the
 * templates the e2e files deploy. On a clean clone (no timings yet) Jest would otherwise start
 * with the largest files, e2e ones, which wait for their template.
 */
const Sequencer = require('@jest/test-sequencer').default;

class UnitFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const unit = (t) => t.context.config.displayName?.name === 'unit';
    return [...sorted.filter(unit), ...sorted.filter((t) => !unit(t))];
  }
}

module.exports = UnitFirst;
