/**
 * After each e2e test file: stop any embedded AWS it left running — one whose start outlasted a
 * hook's timeout, or whose test failed before its stop. A leftover's timers (the DynamoDB TTL
 * sweep, Bedrock's job timeline) would otherwise fire inside a later test file of the same worker.
 */
import { stopLeftoverHarnesses } from './embedded';

afterAll(async () => {
  const stopped = await stopLeftoverHarnesses();
  if (stopped > 0) console.warn(`stopped ${stopped} embedded AWS this test file left running`);
}, 120_000);
