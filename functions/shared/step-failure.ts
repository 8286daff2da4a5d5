/**
 * How a step's failure travels through a run, and how it is read back.
 *
 * Step Functions keeps only a Lambda error's name and message: the Node.js runtime answers a
 * thrown error with `{"errorType","errorMessage","trace"}` and nothing else of it, and on AWS a
 * Catch's `Cause` is that JSON. So an error whose details the run must keep as data (the broken
 * bucket rules, the guard's findings) writes its message as JSON `{"message","details"}`, and
 * `stepFailureOf` reads any Cause back: AWS's runtime JSON, or the bare message (the embedded
 * AWS's default, SendTaskFailure, the ASL's own Pass states).
 */
import * as z from 'zod';
import { ruleResultSchema } from './types';

/** A named error whose details the run keeps as data, in the JSON of its message. */
export abstract class DetailedError<D> extends Error {
  abstract override readonly name: string;
  constructor(
    /** The sentence a person reads (notifications, `tunevault run`, the report). */
    readonly summary: string,
    readonly details: D,
  ) {
    super(JSON.stringify({ message: summary, details }));
  }
}

export const bucketFailureDetailsSchema = z.object({ rules: z.array(ruleResultSchema) });
/** BucketNotCompliantError: every rule the check evaluated, passed and broken. */
export type BucketFailureDetails = z.infer<typeof bucketFailureDetailsSchema>;

export const guardFailureDetailsSchema = z.object({
  findings: z.number().int().nonnegative().optional(),
  reportS3Uri: z.string().startsWith('s3://').optional(),
});
/** SensitiveDataError and InvalidTrainingDataError: the count and the guard's full (masked) report. */
export type GuardFailureDetails = z.infer<typeof guardFailureDetailsSchema>;

/** A failure as the run recorded it (`$.error`, or the execution's error and cause). */
export interface StepFailure {
  error: string;
  message: string;
  /** Present when the error carried details (a DetailedError); check them with the schema of its kind. */
  details?: unknown;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const runtimeErrorSchema = z.object({ errorType: z.string(), errorMessage: z.string() });
const detailedMessageSchema = z.object({ message: z.string(), details: z.unknown() });

export function stepFailureOf(error: string, cause: string | undefined): StepFailure {
  if (cause === undefined) return { error, message: '' };
  const runtime = runtimeErrorSchema.safeParse(parseJson(cause));
  const message = runtime.success ? runtime.data.errorMessage : cause;
  const detailed = detailedMessageSchema.safeParse(parseJson(message));
  if (!detailed.success) return { error, message };
  return {
    error,
    message: detailed.data.message,
    ...(detailed.data.details !== undefined ? { details: detailed.data.details } : {}),
  };
}

/** The rules a BucketNotCompliantError carried; undefined for any other failure. */
export function bucketRulesOfFailure(f: StepFailure): BucketFailureDetails['rules'] | undefined {
  if (f.error !== 'BucketNotCompliantError') return undefined;
  const parsed = bucketFailureDetailsSchema.safeParse(f.details);
  return parsed.success ? parsed.data.rules : undefined;
}

/** What the data guard reported when it stopped the run; undefined for any other failure. */
export function guardDetailsOfFailure(f: StepFailure): GuardFailureDetails | undefined {
  if (f.error !== 'SensitiveDataError' && f.error !== 'InvalidTrainingDataError') return undefined;
  const parsed = guardFailureDetailsSchema.safeParse(f.details);
  return parsed.success ? parsed.data : undefined;
}
