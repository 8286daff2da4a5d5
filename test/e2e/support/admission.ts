/**
 * What the admission tests (test/e2e and test/load), prove:iam and the bench do on and read back
 * from the embedded AWS: keys, jobs, overlap, and a run held in its submission.
 */
import { ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import {
  DescribeKeyCommand,
  type KeyMetadata,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { DATA, type Harness, startWarmHarness } from './embedded';

export interface TaggedKey {
  meta: KeyMetadata;
  tags: Record<string, string>;
}

/** Customer managed keys that runs created (tagged with the alias), with their tags. */
export async function runKeys(h: Harness): Promise<TaggedKey[]> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page = await h.c.kms.send(
      new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }),
    );
    ids.push(...(page.Keys ?? []).map((k) => k.KeyId ?? ''));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  const keys = await Promise.all(
    ids.map(async (KeyId) => {
      const meta = (await h.c.kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata as KeyMetadata;
      const tags = (await h.c.kms.send(new ListResourceTagsCommand({ KeyId }))).Tags ?? [];
      return { meta, tags: Object.fromEntries(tags.map((t) => [t.TagKey ?? '', t.TagValue ?? ''])) };
    }),
  );
  // The stack's own bucket key carries the stack tags, not the alias tag.
  return keys.filter((k) => k.meta.KeyManager === 'CUSTOMER' && !k.tags['tunevault:logical-id']);
}

export interface JobSpan {
  jobName: string;
  status: string;
  start: number;
  end: number;
}

export async function jobSpans(h: Harness): Promise<JobSpan[]> {
  const spans: JobSpan[] = [];
  let nextToken: string | undefined;
  do {
    const page = await h.c.bedrock.send(
      new ListModelCustomizationJobsCommand({ maxResults: 100, nextToken }),
    );
    for (const j of page.modelCustomizationJobSummaries ?? []) {
      spans.push({
        jobName: j.jobName ?? '',
        status: j.status ?? '',
        start: j.creationTime?.getTime() ?? 0,
        end: j.endTime?.getTime() ?? Number.POSITIVE_INFINITY,
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return spans;
}

/** The highest number of jobs running at one instant (a job ending at t no longer runs at t). */
export function maxRunningAtOnce(spans: Pick<JobSpan, 'start' | 'end'>[]): number {
  const edges = spans.flatMap((s) => [
    { t: s.start, d: 1 },
    { t: s.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let running = 0;
  let peak = 0;
  for (const e of edges) {
    running += e.d;
    peak = Math.max(peak, running);
  }
  return peak;
}

/** Calls of `service:Operation` the endpoint has seen. */
export const calls = (h: Harness, id: string) => h.aws.faults.calls.get(id) ?? 0;

/** Polls CHECK until it holds; fails naming WHAT after TIMEOUT_MS. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Drops KEY with its run's CreateModelCustomizationJob held until UNTIL settles and then for
 * DELAY_MS (then refused with ERROR, when given), and resolves once that submission has reached
 * Bedrock: the run holds a job slot and has no job yet.
 */
export async function dropWithHeldSubmission(
  h: Harness,
  key: string,
  body: string,
  hold: { delayMs?: number; error?: string; until?: Promise<unknown> },
) {
  const before = calls(h, 'bedrock:CreateModelCustomizationJob');
  h.aws.faults.add({
    service: 'bedrock',
    operation: 'CreateModelCustomizationJob',
    count: 1,
    ...hold,
  });
  const object = await h.put(key, body);
  await until(
    `the submission of ${key}`,
    () => calls(h, 'bedrock:CreateModelCustomizationJob') > before,
    60_000,
  );
  return { object, executionArn: h.executionArnOf(object) };
}

/** Drops a dataset without waiting for its run; resolves once the object is stored. */
export async function dropOnly(h: Harness, name: string, marker = name) {
  const object = await h.put(
    `${h.stack.trainingPrefix}${name}.jsonl`,
    DATA.replace('lamp', `lamp ${marker}`),
  );
  return { object, executionArn: h.executionArnOf(object) };
}

/**
 * The stack of the concurrent-job quota cases: a quota of 3 read from Service Quotas, and jobs long
 * enough for three to overlap, so the limit is reached, not merely respected.
 */
export const startQuotaHarness = () => startWarmHarness({ concurrentJobsQuota: 3, jobDurationMs: 1_500 });
