/** Reading Stryker's mutation-testing report (the JSON reporter's and the incremental file's shape). */

/** Offset in `source` of a report location (lines and columns counted from 1). */
function offsetOf(source, { line, column }) {
  let at = 0;
  for (let l = 1; l < line; l += 1) at = source.indexOf('\n', at) + 1;
  return at + column - 1;
}

/** A mutant no test detected: it survived, or no test covered it. */
const isAlive = (m) => m.status === 'Survived' || m.status === 'NoCoverage';

module.exports = { offsetOf, isAlive };
