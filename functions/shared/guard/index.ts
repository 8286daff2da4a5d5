/**
 * The training-data guard: a pure library (no AWS SDK), used by the ScanTrainingData step and
 * by `tunevault scan`.
 */
export { scanTrainingData } from './scan';
export { replaceMatches } from './records';
export { summarize, formatProblem, type ScanSummaryPayload } from './summarize';
export {
  familyForModel,
  limitsFor,
  normalizeModelId,
  knownModelPrefixes,
  isFamilyId,
  FAMILIES,
  CHARS_PER_TOKEN,
  type FamilyId,
  type DatasetLimits,
} from './limits';
export { checkRecord, formatPath, type RecordIssue } from './schemas';
export { DETECTORS, detectAll, lineGateMask, type TypedMatch } from './registry';
export { defineDetector, type DetectorSpec, shannonEntropy, luhnValid } from './detectors';
export { viewOf, type TextView } from './normalize';
export { maskValue, maskToken } from './mask';
export * from './types';
