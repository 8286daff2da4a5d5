// Stops test/warm-templates.js (and the `serverless package` it runs) if it is still packaging
// when the tests end: a run of a few files can end first. The packaging lock it held is taken over
// by the next packaging (its holder is dead), and a template it had not finished is packaged then.
module.exports = async () => {
  const warmer = globalThis.__tunevaultWarmer;
  if (!warmer || warmer.exitCode !== null || warmer.signalCode !== null) return;
  try {
    process.kill(-warmer.pid, 'SIGTERM');
  } catch {
    // Ended between the look and the kill.
  }
};
