/**
 * `npm run prove:iam`: least privilege, proven both ways on the embedded AWS (IAM enforced).
 *
 * 1. Every workflow path runs on the untouched stack and must end as it should (clean run with key
 *    bootstrap, key race, key policy drift, validation data, blocked, redacted, a non-compliant
 *    model, a failed job, a stopped job, the poll fallback, reinforcement fine-tuning with its
 *    grader, on-demand and provisioned deploys with their remediation and expiry cleanup; and
 *    admission under a quota of one job: a waiting run handed the slot by the sweep (its job's
 *    events lost) and by remediation, a slot reclaimed by the sweep, a quota refusal, a key-bootstrap holder that
 *    died). Every decision is recorded.
 * 2. Each action of each role the packaged template creates (the functions', the state machine's,
 *    Bedrock's service role) is removed, one at a time, and the paths that used it run again: the
 *    removal must be refused somewhere (a denial of exactly that action for that role). An action no
 *    path used is removed and every path runs: then it is not needed — unless it is on the KEEP list
 *    below with the reason it must stay although the embedded AWS cannot exercise it. A kept action
 *    for a race (the admission's lost wake-up) may be asked for in a baseline run that hit the race
 *    and not in the reruns: it stays kept, and the matrix says which baseline path asked.
 *
 * Prints the matrix and a verdict; exits 1 when an action is granted but never needed, or a path
 * fails on the untouched stack. Run by .ci/run (not part of `npm test`: a few minutes).
 *
 * Shards (PROVE_IAM_SHARDS, default 3): the paths, then the removals, are spread over that many
 * embedded AWS, each in a child process of its own (this script with `--shard K`) with its own
 * endpoint, state and IAM registry, each taking the next path or removal as it comes free. Path
 * runs mostly wait (jobs, polls, leases, the sweep, a removal's timeouts), so they overlap well even
 * on two cores. A removal runs whole on one shard (removed, its reruns, put back, the key made
 * again), and every path starts from an idle stack, so a verdict does not depend on the shard or
 * what ran there before. The first path (no key yet) runs on a fresh stack as it always has; the
 * other shards make their key first. PROVE_IAM_SHARDS=1: everything in this process, in order.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetModelCustomizationJobCommand,
  GetProvisionedModelThroughputCommand,
} from '@aws-sdk/client-bedrock';
import {
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { field } from '../cli/lib/run-view';
import type { Decision } from '../local/iam/types';
import { policyStatements } from '../local/iam/registry';
import { calls, dropWithHeldSubmission, jobSpans, until } from '../test/e2e/support/admission';
import { DATA, type Harness, LEAKY, startHarness } from '../test/e2e/support/embedded';

/** Granted, but not exercisable on the embedded AWS — each with why it must stay. */
const KEEP: Record<string, string> = {
  'logs:CreateLogGroup': 'Lambda writes its own logs to CloudWatch Logs (not emulated)',
  'logs:CreateLogStream': 'Lambda writes its own logs to CloudWatch Logs (not emulated)',
  'logs:PutLogEvents': 'Lambda writes its own logs to CloudWatch Logs (not emulated)',
  'xray:PutTraceSegments': 'active tracing (Lambda and the state machine); X-Ray is not emulated',
  'xray:PutTelemetryRecords': 'active tracing (Lambda and the state machine); X-Ray is not emulated',
  'xray:GetSamplingRules': 'state machine tracing; X-Ray is not emulated',
  'xray:GetSamplingTargets': 'state machine tracing; X-Ray is not emulated',
  'logs:CreateLogDelivery': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:GetLogDelivery': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:UpdateLogDelivery': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:DeleteLogDelivery': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:ListLogDeliveries': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:PutResourcePolicy': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:DescribeResourcePolicies': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
  'logs:DescribeLogGroups': 'state machine logging (loggingConfig) to CloudWatch Logs, not emulated',
};

/** Deploying a model encrypted with a customer managed key (custom-model-inference-prerequisites). */
const FINALIZE_KEY =
  'deploying a model encrypted with a customer managed key needs the caller to be allowed to use the key (Bedrock guide, custom-model-inference-prerequisites); which KMS calls Bedrock makes as the caller is not documented, so the embedded Bedrock does not make them';

/** Role-specific keeps: `<role name fragment> <action>`. */
const KEEP_FOR: Record<string, string> = {
  'admitJob servicequotas:GetAWSDefaultServiceQuota':
    'read only when the account has no applied value for the quota (GetServiceQuota answers NoSuchResourceException); the embedded account always has one',
  'admitJob dynamodb:DeleteItem':
    'a run that parks just as a slot comes free (between its refused take and its park) gives that slot to the oldest waiter and removes it from the list: the lost-wake-up window, not reproducible on demand (test/unit/steps/admission.test.ts covers it)',
  'bedrock-customization s3:ListBucket':
    'a job reading a missing training or validation object gets 404 (a failureMessage naming the object) instead of 403 only with it; the guard copies every object the job reads first, so no path here can miss one',
  'finalizeCustomModel kms:Decrypt': FINALIZE_KEY,
  'finalizeCustomModel kms:DescribeKey': FINALIZE_KEY,
  'finalizeCustomModel kms:CreateGrant': FINALIZE_KEY,
  'remediate s3:ListBucket':
    'tagging an object deleted before the run read it: with it S3 can answer 404 (nothing to tag), without it AWS may answer 403, which fails the remediation; the embedded S3 answers tagging a missing object with 404 either way, so no path here is refused without it',
  'scanTrainingData s3:AbortMultipartUpload':
    'a sanitized copy above the multipart threshold (lib-storage Upload) is aborted on failure; the paths here write small copies',
};
/** Object tagging without a version: the training bucket may be an existing, unversioned one. */
const UNVERSIONED =
  'an existing training bucket without versioning (createTrainingBucket=false) tags objects without a version id; the stack-made bucket is versioned';
for (const fn of ['startCustomization', 'scanTrainingData', 'finalizeCustomModel', 'remediate'])
  for (const a of ['s3:GetObjectTagging', 's3:PutObjectTagging']) KEEP_FOR[`${fn} ${a}`] = UNVERSIONED;

interface Outcome {
  ok: boolean;
  detail: string;
}

interface PathDef {
  name: string;
  run(h: Harness, n: number): Promise<Outcome>;
}

const ok = (detail: string): Outcome => ({ ok: true, detail });
const bad = (detail: string): Outcome => ({ ok: false, detail });
const expectRun = (
  run: { status?: string; error?: string; cause?: string },
  status: string,
  error?: string,
) =>
  run.status === status && (error === undefined || run.error === error)
    ? ok(`${status}${error ? ` ${error}` : ''}`)
    : bad(
        `expected ${status}${error ? ` ${error}` : ''}, got ${run.status} ${run.error ?? ''} ${(run.cause ?? '').slice(0, 200)}`,
      );

async function aliasOf(h: Harness): Promise<string> {
  return h.stack.functions.find((f) => f.key === 'ensureCustomerManagedKey')?.environment.KEY_ALIAS ?? '';
}

async function dropAlias(h: Harness): Promise<void> {
  const alias = await aliasOf(h);
  const aliases = (await h.c.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
  if (aliases.some((a) => a.AliasName === alias))
    await h.c.kms.send(new DeleteAliasCommand({ AliasName: alias }));
}

const BEDROCK_EVENTS = { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' };

/** Two runs at once under the harness's quota of one job: one holds the slot, the other waits. */
async function twoAtOnce(h: Harness, name: string) {
  return Promise.all([h.drop(`${name}-a`), h.drop(`${name}-b`)]);
}

const waited = (run: { state: Record<string, unknown> }) => field(run.state, 'admission', 'by') === 'queue';

/** The runs waiting for a job slot (the admission table's list). */
async function queued(h: Harness) {
  const out = await h.c.dynamo.send(
    new QueryCommand({
      TableName: h.stack.admissionTable,
      KeyConditionExpression: 'pk = :q',
      ExpressionAttributeValues: { ':q': 'queue' },
    }),
  );
  return out.Items ?? [];
}

const PATHS: PathDef[] = [
  {
    name: 'key bootstrap (no key yet)',
    async run(h, n) {
      await dropAlias(h);
      const { run } = await h.drop(`prove-bootstrap-${n}`);
      if (run.status === 'SUCCEEDED' && field<boolean>(run.state, 'key', 'created') !== true)
        return bad('the run did not create the key');
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'key race (two first runs)',
    async run(h, n) {
      await dropAlias(h);
      h.aws.faults.add({ service: 'kms', operation: 'CreateKey', count: 2, delayMs: 300 });
      const [a, b] = await Promise.all([h.drop(`prove-race-a-${n}`), h.drop(`prove-race-b-${n}`)]);
      const ra = expectRun(a.run, 'SUCCEEDED');
      return ra.ok ? expectRun(b.run, 'SUCCEEDED') : ra;
    },
  },
  {
    name: 'poll fallback (job-state events lost)',
    async run(h, n) {
      h.aws.events.dropNext(2, { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' });
      const object = await h.put(`${h.stack.trainingPrefix}prove-poll-${n}.jsonl`, DATA);
      // Two poll intervals at least: on a loaded machine the default 30 s wait is short.
      const run = await h.finished(h.executionArnOf(object), 120_000);
      if (run.status === 'SUCCEEDED' && field(run.state, 'jobResult', 'resumedBy') !== 'poll')
        return bad('resumed by the event, not the poll');
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'key policy drift (statements and rotation restored)',
    async run(h, n) {
      const alias = (await h.c.kms.send(new DescribeKeyCommand({ KeyId: await aliasOf(h) }))).KeyMetadata
        ?.Arn;
      const root = { AWS: `arn:aws:iam::${h.aws.accountId}:root` };
      await h.c.kms.send(
        new PutKeyPolicyCommand({
          KeyId: alias,
          PolicyName: 'default',
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Sid: 'Root', Effect: 'Allow', Principal: root, Action: 'kms:*', Resource: '*' }],
          }),
        }),
      );
      await h.c.kms.send(new DisableKeyRotationCommand({ KeyId: alias }));
      const { run } = await h.drop(`prove-drift-${n}`);
      const policy = (await h.c.kms.send(new GetKeyPolicyCommand({ KeyId: alias, PolicyName: 'default' })))
        .Policy;
      if (run.status === 'SUCCEEDED' && !policy?.includes('TuneVaultBuildersEncryptViaBedrock'))
        return bad('the builders statement was not restored');
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'clean run with validation data and a sidecar',
    async run(h, n) {
      await h.c.s3.send(
        new PutObjectCommand({
          Bucket: h.stack.trainingBucket,
          Key: `validation/prove-${n}.jsonl`,
          Body: DATA,
        }),
      );
      const { run } = await h.drop(`prove-validation-${n}`, DATA, {
        validationKey: `validation/prove-${n}.jsonl`,
      });
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'blocked data (quarantined)',
    async run(h, n) {
      const { run, object } = await h.drop(`prove-blocked-${n}`, LEAKY);
      const tags = await h.c.s3.send(
        new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
      );
      if (tags.TagSet?.find((t) => t.Key === 'tunevault:status')?.Value !== 'quarantined')
        return bad('the object was not tagged quarantined');
      return expectRun(run, 'FAILED', 'SensitiveDataError');
    },
  },
  {
    name: 'redacted data (trains on a sanitized copy)',
    async run(h, n) {
      const { run } = await h.drop(`prove-redacted-${n}`, LEAKY, { dataPolicy: { policy: 'redact' } });
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'non-compliant model (remediation deletes it)',
    async run(h, n) {
      h.aws.bedrock.setNextOutcome({ status: 'Completed', modelKmsKeyArn: null });
      const { run } = await h.drop(`prove-noncompliant-${n}`);
      return expectRun(run, 'FAILED', 'ModelNotCompliantError');
    },
  },
  {
    name: 'failed job (remediated, notified)',
    async run(h, n) {
      h.aws.bedrock.setNextOutcome({ status: 'Failed', failureMessage: 'prove:iam: simulated failure' });
      const { run } = await h.drop(`prove-failed-${n}`);
      return expectRun(run, 'FAILED', 'CustomizationJobFailedError');
    },
  },
  {
    name: 'a running job stopped by remediation',
    async run(h, n) {
      h.aws.faults.add({ service: 'dynamodb', operation: 'PutItem', count: 1, error: 'ValidationException' });
      // A long job: it is certainly still running when Remediate looks at it.
      h.aws.bedrock.setJobDuration(60_000);
      const { run } = await h.drop(`prove-stop-${n}`).finally(() => h.aws.bedrock.setJobDuration(JOB_MS));
      const jobArn = field(run.state, 'job', 'jobArn') as string | undefined;
      if (!jobArn) return bad('no job was submitted');
      await sleep(300);
      const job = await h.c.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      if (job.status !== 'Stopped' && job.status !== 'Stopping')
        return bad(`the job is ${job.status}, not stopped`);
      return expectRun(run, 'FAILED');
    },
  },
  {
    name: 'object deleted before the run reads it',
    async run(h, n) {
      const object = await h.put(`${h.stack.trainingPrefix}prove-deleted-${n}.jsonl`, DATA);
      await h.c.s3.send(
        new DeleteObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
      );
      return expectRun(await h.finished(h.executionArnOf(object)), 'FAILED', 'InvalidInputError');
    },
  },
  {
    name: 'sidecar names a validation key that does not exist',
    async run(h, n) {
      const { run } = await h.drop(`prove-novalidation-${n}`, DATA, {
        validationKey: `validation/none-${n}.jsonl`,
      });
      return expectRun(run, 'FAILED', 'InvalidInputError');
    },
  },
  {
    name: 'rejected upload (a sidecar with unknown fields)',
    async run(h, n) {
      const key = `${h.stack.trainingPrefix}prove-rejected-${n}.jsonl`;
      await h.put(key.replace(/\.jsonl$/, '.job.json'), JSON.stringify({ notAField: true }));
      const object = await h.put(key, DATA);
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(100)) {
        const tags = await h.c.s3.send(
          new GetObjectTaggingCommand({ Bucket: object.bucket, Key: key, VersionId: object.versionId }),
        );
        if (tags.TagSet?.find((t) => t.Key === 'tunevault:status')?.Value === 'rejected')
          return ok('rejected, tagged');
      }
      return bad('the object was not tagged rejected');
    },
  },
  {
    name: 'job already ended when the run starts waiting (answered at once)',
    async run(h, n) {
      h.aws.bedrock.setJobDuration(0);
      // The job's events are lost: only WaitForJob itself, at registration, can answer the task.
      h.aws.events.dropNext(3, { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' });
      // A job of duration 0 still reads its data and writes its output (~0.2 s of real work, on disk
      // since the bodies stream): WaitForJob's look at the job waits 1 s so that it is surely done —
      // well inside the poll interval, whose timeout would otherwise answer first.
      h.aws.faults.add({
        service: 'bedrock',
        operation: 'GetModelCustomizationJob',
        count: 1,
        delayMs: 1000,
      });
      try {
        const { run } = await h.drop(`prove-fast-${n}`);
        if (run.status === 'SUCCEEDED' && field(run.state, 'jobResult', 'resumedBy') !== 'register')
          return bad(`resumed by ${field(run.state, 'jobResult', 'resumedBy')}, not at registration`);
        return expectRun(run, 'SUCCEEDED');
      } finally {
        h.aws.bedrock.setJobDuration(JOB_MS);
      }
    },
  },
  {
    name: 'failed job, ended when the run starts waiting (failure answered at once)',
    async run(h, n) {
      h.aws.bedrock.setJobDuration(0);
      h.aws.events.dropNext(3, { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' });
      h.aws.bedrock.setNextOutcome({ status: 'Failed', failureMessage: 'prove:iam: simulated failure' });
      h.aws.faults.add({
        service: 'bedrock',
        operation: 'GetModelCustomizationJob',
        count: 1,
        delayMs: 1000,
      });
      try {
        const { run } = await h.drop(`prove-fast-fail-${n}`);
        return expectRun(run, 'FAILED', 'CustomizationJobFailedError');
      } finally {
        h.aws.bedrock.setJobDuration(JOB_MS);
      }
    },
  },
  {
    name: 'a run waits while the job before it loses its events (the sweep hands the slot on)',
    async run(h, n) {
      h.aws.events.dropNext(4, BEDROCK_EVENTS);
      const [a, b] = await twoAtOnce(h, `prove-pollq-${n}`);
      if (![a.run, b.run].some(waited)) return bad('neither run waited for the slot');
      const ra = expectRun(a.run, 'SUCCEEDED');
      return ra.ok ? expectRun(b.run, 'SUCCEEDED') : ra;
    },
  },
  {
    name: 'a run fails before its job while another waits (remediation hands the slot on)',
    async run(h, n) {
      // The first submission hangs, then is refused for good: its run fails while the other waits.
      const first = await dropWithHeldSubmission(
        h,
        `${h.stack.trainingPrefix}prove-failq-${n}-a.jsonl`,
        DATA,
        {
          delayMs: 20_000,
          error: 'ValidationException',
        },
      );
      const second = await h.put(`${h.stack.trainingPrefix}prove-failq-${n}-b.jsonl`, DATA);
      await until('the second run to wait', async () => (await queued(h)).length > 0, 18_000);
      const failed = await h.finished(first.executionArn, 120_000);
      const other = await h.finished(h.executionArnOf(second), 120_000);
      if (!waited(other)) return bad('the other run did not wait for the slot');
      const rf = expectRun(failed, 'FAILED', 'JobSubmissionError');
      return rf.ok ? expectRun(other, 'SUCCEEDED') : rf;
    },
  },
  {
    name: 'a run stopped while it holds the job slot (the sweep reclaims it)',
    async run(h, n) {
      // The first submission hangs (and then fails): its run is stopped meanwhile, holding the slot.
      const holder = await dropWithHeldSubmission(
        h,
        `${h.stack.trainingPrefix}prove-stopq-${n}-a.jsonl`,
        DATA,
        {
          delayMs: 20_000,
          error: 'AccessDeniedException',
        },
      );
      const waiter = await h.put(`${h.stack.trainingPrefix}prove-stopq-${n}-b.jsonl`, DATA);
      await until('the second run to wait', async () => (await queued(h)).length > 0, 18_000);
      await h.c.sfn.send(new StopExecutionCommand({ executionArn: holder.executionArn }));
      const run = await h.finished(h.executionArnOf(waiter), 120_000);
      if (!waited(run)) return bad('the other run did not wait for the slot');
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'Bedrock refuses a job for its quota (the run goes back to the list)',
    async run(h, n) {
      h.aws.faults.add({
        service: 'bedrock',
        operation: 'CreateModelCustomizationJob',
        count: 1,
        error: 'ServiceQuotaExceededException',
      });
      const { run } = await h.drop(`prove-quota-${n}`);
      if (!h.statesEntered(run).includes('RequeueJob')) return bad('the run was not put back in the list');
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'a dead key-bootstrap holder left an unusable key (retired, and a new one made)',
    async run(h, n) {
      await dropAlias(h);
      const alias = await aliasOf(h);
      // What a holder that died leaves: its lease, run out, naming a key it made (since disabled).
      const made = await h.c.kms.send(
        new CreateKeyCommand({
          Description: "prove:iam: a dead bootstrap holder's key",
          Tags: [
            { TagKey: 'tunevault:stage', TagValue: h.stack.stage },
            { TagKey: 'tunevault:alias', TagValue: alias },
          ],
        }),
      );
      const keyId = made.KeyMetadata?.KeyId ?? '';
      await h.c.kms.send(new DisableKeyCommand({ KeyId: keyId }));
      await h.c.dynamo.send(
        new PutCommand({
          TableName: h.stack.admissionTable,
          Item: { pk: 'lease', sk: `kms-key:${alias}`, holder: `dead-${n}`, leaseUntil: 1, keyId },
        }),
      );
      const { run } = await h.drop(`prove-retire-${n}`);
      const left = (await h.c.kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
      if (run.status === 'SUCCEEDED' && left?.KeyState !== 'PendingDeletion')
        return bad(`the dead holder's key is ${left?.KeyState}, not scheduled for deletion`);
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'a key-bootstrap holder dies before recording its key (adopted by its tag)',
    async run(h, n) {
      await dropAlias(h);
      const before = calls(h, 'dynamodb:UpdateItem');
      const aliasesBefore = calls(h, 'kms:CreateAlias');
      // The holder's write of its key id to the lease hangs past the lease (2 s here) until the
      // successor has aliased a key (or ended): with a fixed 4 s delay, a successor slowed by a
      // loaded machine found the key id recorded and adopted by id, never reading the tags.
      let release = () => {};
      const released = new Promise<void>((r) => {
        release = r;
      });
      h.aws.faults.add({ service: 'dynamodb', operation: 'UpdateItem', count: 1, until: released });
      const holder = h.drop(`prove-lease-holder-${n}`);
      let successorEnded = false;
      let successor: ReturnType<Harness['drop']> | undefined;
      try {
        await until('the holder to record its key', () => calls(h, 'dynamodb:UpdateItem') > before);
        successor = h.drop(`prove-lease-successor-${n}`).finally(() => {
          successorEnded = true;
        });
        await until(
          'the successor to alias a key',
          () => successorEnded || calls(h, 'kms:CreateAlias') > aliasesBefore,
          120_000,
        );
      } finally {
        release();
      }
      const { run } = await successor;
      const first = await holder;
      if (run.status === 'SUCCEEDED' && field<boolean>(run.state, 'key', 'adopted') !== true)
        return bad("the successor did not adopt the dead holder's key");
      const r = expectRun(first.run, 'SUCCEEDED');
      return r.ok ? expectRun(run, 'SUCCEEDED') : r;
    },
  },
  {
    name: 'reinforcement fine-tuning (Bedrock invokes the grader)',
    async run(h, n) {
      const sidecar = JSON.parse(example('rft/chargers.job.json')) as {
        customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: string } } } };
      };
      sidecar.customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn = GRADER;
      const { run } = await h.drop(`prove-rft-${n}`, example('rft/chargers.jsonl'), sidecar);
      if (run.status === 'SUCCEEDED' && !h.aws.bedrock.rewards(field(run.state, 'job', 'jobArn') as string))
        return bad('the grader was not called');
      return expectRun(run, 'SUCCEEDED');
    },
  },
  {
    name: 'on-demand deploy, taken down by remediation',
    async run(h, n) {
      const { run, executionArn } = await h.drop(`prove-deploy-${n}`, DATA, { deploy: 'on-demand' });
      if (run.status !== 'SUCCEEDED') return expectRun(run, 'SUCCEEDED');
      if (!field(run.state, 'model', 'deployment', 'arn')) return bad('no deployment was made');
      // The remediation a DeploymentError runs, on a model whose deployment exists (as when a
      // deployment was made but its answer lost): the remediate function as its own role.
      const result = await remediationOf(h, executionArn, run);
      return result.includes('deleted-deployment') ? ok('deployed, then taken down') : bad(result);
    },
  },
  {
    name: 'provisioned deploy, taken down by remediation',
    async run(h, n) {
      const { run, executionArn } = await h.drop(`prove-provisioned-${n}`, DATA, {
        deploy: 'provisioned',
        provisioned: { expiresInHours: 1 },
      });
      if (run.status !== 'SUCCEEDED') return expectRun(run, 'SUCCEEDED');
      const result = await remediationOf(h, executionArn, run);
      return result.includes('deleted-provisioned-throughput')
        ? ok('provisioned, then taken down')
        : bad(result);
    },
  },
  {
    name: 'provisioned deploy, deleted by the expiry cleanup',
    async run(h, n) {
      const { run } = await h.drop(`prove-expiry-${n}`, DATA, {
        deploy: 'provisioned',
        provisioned: { expiresInHours: 1 / 3600 },
      });
      if (run.status !== 'SUCCEEDED') return expectRun(run, 'SUCCEEDED');
      const arn = field(run.state, 'model', 'deployment', 'arn') as string;
      // The stack's rate(15 minutes) rule runs the cleanup (a tick every 9 s at the harness's
      // time scale): invoking it here as well would race the tick for the deletion.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
        const left = await h.c.bedrock
          .send(new GetProvisionedModelThroughputCommand({ provisionedModelId: arn }))
          .catch((err: unknown) => err);
        if ((left as Error).name === 'ResourceNotFoundException')
          return ok('expired, deleted by the schedule');
      }
      return bad('still provisioned 30 s after its expiry');
    },
  },
];

const JOB_MS = 300;
const GRADER_NAME = 'tunevault-example-grader';
const GRADER = `arn:aws:lambda:us-east-1:000000000000:function:${GRADER_NAME}`;
const example = (file: string) => fs.readFileSync(path.join(__dirname, '..', 'examples', file), 'utf8');

/** Runs the remediate function on RUN's model as after a DeploymentError; the actions it took. */
async function remediationOf(
  h: Harness,
  executionArn: string,
  run: { state: Record<string, unknown> },
): Promise<string> {
  const remediate = h.stack.functions.find((f) => f.key === 'remediate')?.arn ?? '';
  const out = (await h.aws.lambda
    .invoke(remediate, {
      executionArn,
      run: {
        source: run.state.source,
        error: { Error: 'DeploymentError', Cause: 'prove:iam' },
        jobResult: { outputModelArn: field(run.state, 'model', 'modelArn') },
      },
    })
    .catch((err: unknown) => ({ error: String(err) }))) as { actions?: { action: string }[] };
  return out.actions ? out.actions.map((a) => a.action).join(', ') : JSON.stringify(out).slice(0, 200);
}

const roleNameOf = (principal: string) => /:assumed-role\/([^/]+)\//.exec(principal)?.[1];

/** Set in a child shard: its progress lines on the shared stderr say which shard wrote them. */
let shardLabel = '';
const note = (m: string) => process.stderr.write(shardLabel ? m.replace(/^(\s*)/, `$1[${shardLabel}] `) : m);

interface PathRun {
  outcome: Outcome;
  decisions: Decision[];
  /** Wall time of the path, its set-up included. */
  ms: number;
}

/**
 * Each path starts with every Bedrock job slot free, nobody waiting and no key-bootstrap lease, as
 * an idle stack has: a
 * path run with a permission removed may leave a slot taken (the sweep would reclaim it only once
 * someone waits), which would make the next path's first run wait.
 */
async function resetAdmission(h: Harness): Promise<void> {
  const TableName = h.stack.admissionTable;
  await h.c.dynamo
    .send(
      new UpdateCommand({
        TableName,
        Key: { pk: 'slots', sk: 'bedrock-jobs' },
        UpdateExpression: 'SET holders = :none REMOVE quotaCeiling, quotaCeilingUntil',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':none': {} },
      }),
    )
    .catch((err: unknown) => {
      if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) throw err;
    });
  // Nobody waiting, and no key-bootstrap lease: a path run with a permission removed (the lease's
  // DeleteItem, say) leaves its lease behind, and the next key path's first run would take it over
  // and adopt the key it names instead of making one (seen: the dead-holder path then never read
  // the tags, and kms:ListResourceTags came out "not refused").
  for (const pk of ['queue', 'lease']) {
    const left = await h.c.dynamo.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    );
    for (const item of left.Items ?? [])
      await h.c.dynamo.send(new DeleteCommand({ TableName, Key: { pk, sk: item.sk } }));
  }
}

/**
 * What a path that failed left behind — a run it stopped waiting for, a job still training (a
 * removed StopModelCustomizationJob leaves one for a minute) — would take the next path's job slot
 * or Bedrock's quota of one and fail it for a reason of its own. Each path starts without them.
 */
async function settleLeftovers(h: Harness): Promise<void> {
  const running = await h.c.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: h.stack.stateMachineArn, statusFilter: 'RUNNING' }),
  );
  for (const e of running.executions ?? [])
    await h.c.sfn.send(new StopExecutionCommand({ executionArn: e.executionArn }));
  const training = (await jobSpans(h)).filter((j) => j.status === 'InProgress' || j.status === 'Stopping');
  for (const j of training) await h.aws.bedrock.completeNow(j.jobName);
  // The ended jobs' events reach onJobStateChange now, not inside the next path's decisions.
  await h.aws.idle();
  if (running.executions?.length || training.length)
    note(
      `    (before the next path: ${running.executions?.length ?? 0} leftover run(s) stopped, ${training.length} job(s) ended)\n`,
    );
}

async function runPath(h: Harness, p: PathDef, n: number): Promise<PathRun> {
  const started = Date.now();
  await settleLeftovers(h);
  await resetAdmission(h);
  const decisions: Decision[] = [];
  const stop = h.aws.authorizer.onDecision((d) => decisions.push(d));
  try {
    const outcome = await p.run(h, n).catch((err: unknown) => bad(`threw ${String(err)}`));
    await h.aws.s3.notificationsSettled();
    await h.aws.lambda.idle();
    return { outcome, decisions, ms: Date.now() - started };
  } finally {
    stop();
    h.aws.faults.clear();
    h.aws.events.clearDrops();
    h.aws.bedrock.clearNextOutcomes();
  }
}

interface Row {
  role: string;
  action: string;
  usedBy: string[];
  verdict: 'needed' | 'kept' | 'UNNEEDED' | 'NOT REFUSED';
  proof: string;
}

/** A role of the packaged template: whether a run assumes it, and the actions its policies grant. */
interface RoleFacts {
  name: string;
  arn: string;
  assumed: boolean;
  actions: string[];
}

/** What the coordinator reads once from a shard's stack (every shard deploys the same template). */
interface StackFacts {
  mode: string;
  roles: RoleFacts[];
}

/** One action removed from one role, and the paths to run again without it, in that order. */
interface Removal {
  roleName: string;
  roleArn: string;
  action: string;
  paths: string[];
  /** Print each rerun's outcome (PROVE_IAM_ONLY). */
  verbose: boolean;
}

interface RemovalResult {
  /** The first refusal of exactly that action for that role, and the path it came in. */
  refusal?: Decision;
  refusedIn?: string;
  /** The outcome of the refused path when it also failed. */
  broke?: string;
  reruns: string[];
}

/**
 * Where paths run: one embedded AWS with the stack deployed, in this process (PROVE_IAM_SHARDS=1)
 * or in a child process of its own. Each shard owns its endpoint, state and IAM registry, so a
 * removal on one shard is invisible to the runs of another.
 */
interface Shard {
  readonly label: string;
  facts(): Promise<StackFacts>;
  path(name: string): Promise<PathRun>;
  /** Makes the key again (with every permission back) when a run left no alias. */
  ensureKey(): Promise<void>;
  removal(r: Removal): Promise<RemovalResult>;
  /** Path runs so far, key restores included. */
  runs(): Promise<number>;
  stop(): Promise<void>;
}

function pathNamed(name: string): PathDef {
  const p = PATHS.find((x) => x.name === name);
  if (!p) throw new Error(`no path named "${name}"`);
  return p;
}

/** One embedded AWS and the paths, removals and key restores run on it. */
class Prover implements Shard {
  private n = 0;

  private constructor(
    readonly label: string,
    private readonly h: Harness,
  ) {}

  static async start(label: string): Promise<Prover> {
    // One Bedrock job at a time (read from Service Quotas), so two runs at once make one wait; a
    // short key lease and quota cap so the dead-holder and quota-refusal paths end quickly. The
    // poll (4 s) leaves the answered-at-once paths' 1 s hold on WaitForJob's look at the job a
    // wide margin on a loaded machine: WaitForJob's timeout counts from the state's start, and
    // would answer first.
    const h = await startHarness({
      jobDurationMs: JOB_MS,
      concurrentJobsQuota: 1,
      params: {
        pollIntervalSeconds: '4',
        keyLeaseSeconds: '2',
        quotaRetrySeconds: '1',
        rftGraderLambdaArns: GRADER,
      },
    });
    // The example reward function, as its own Lambda function (another stack's, in practice).
    h.aws.registerFunction(GRADER_NAME, 'examples/rft/grader.handler');
    return new Prover(label, h);
  }

  async facts(): Promise<StackFacts> {
    const { h } = this;
    const assumed = new Set([
      ...h.stack.functions.map((f) => f.roleArn),
      h.stack.stateMachineRoleArn,
      h.stack.functions.find((f) => f.key === 'submitCustomizationJob')?.environment.BEDROCK_ROLE_ARN,
    ]);
    return {
      mode: h.aws.authorizer.mode,
      roles: h.aws.iam.listRoles().map((role) => ({
        name: role.name,
        arn: role.arn,
        assumed: assumed.has(role.arn),
        actions: [
          ...new Set(
            role.policies.flatMap((p) =>
              policyStatements(p.document).flatMap((s) => (s.Action === undefined ? [] : [s.Action].flat())),
            ),
          ),
        ],
      })),
    };
  }

  path(name: string): Promise<PathRun> {
    return runPath(this.h, pathNamed(name), ++this.n);
  }

  async ensureKey(): Promise<void> {
    const { h } = this;
    const alias = await aliasOf(h);
    const aliases = (await h.c.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
    if (!aliases.some((a) => a.AliasName === alias)) await h.drop(`prove-restore-${++this.n}`);
  }

  async removal(r: Removal): Promise<RemovalResult> {
    const { h } = this;
    // admitJob reads the account's quota once per container (then every 15 minutes): in a
    // fresh container for each path, it asks again, and once the action is back a fresh one
    // forgets what it read without it (the fallback of 2 slots would let the next paths' second
    // run through instead of making it wait). No other function caches what a permission
    // reads; recycling all of them would only pile up module instances.
    const recycled = h.stack.functions.find((f) => f.roleArn === r.roleArn && f.key === 'admitJob');
    const undo = h.aws.iam.withoutAction(r.roleArn, r.action);
    const result: RemovalResult = { reruns: [] };
    try {
      for (const p of r.paths.map(pathNamed)) {
        if (recycled) h.aws.lambda.recycle(recycled.key);
        const cpu = process.cpuUsage();
        const run = await runPath(h, p, ++this.n);
        if (r.verbose) {
          // This process's CPU time in the run: with several shards, each is a process of its own.
          const { user, system } = process.cpuUsage(cpu);
          const took = `${(run.ms / 1000).toFixed(1)} s, CPU ${((user + system) / 1e6).toFixed(1)} s`;
          note(`    ${r.action} removed: "${p.name}" → ${run.outcome.detail} (${took})\n`);
        }
        if (process.env.PROVE_IAM_DEBUG)
          for (const d of run.decisions.filter((d) => roleNameOf(d.principal) === r.roleName))
            note(`      ${d.result} ${d.action} ${JSON.stringify(d.resource ?? '').slice(0, 120)}\n`);
        result.reruns.push(`"${p.name}" → ${run.outcome.detail.slice(0, 240)}`);
        const found = run.decisions.find(
          (d) =>
            d.result !== 'Allowed' &&
            roleNameOf(d.principal) === r.roleName &&
            d.action.toLowerCase() === r.action.toLowerCase(),
        );
        if (found) {
          if (!run.outcome.ok) result.broke = run.outcome.detail;
          result.refusal = found;
          result.refusedIn = p.name;
          break;
        }
      }
    } finally {
      undo();
      if (recycled) h.aws.lambda.recycle(recycled.key);
    }
    // A key bootstrap that failed for the missing action leaves no alias: make the key again,
    // with every permission back, so the next paths start from a deployed account.
    await this.ensureKey();
    return result;
  }

  async runs(): Promise<number> {
    return this.n;
  }

  stop(): Promise<void> {
    return this.h.stop();
  }
}

type ShardOp = 'facts' | 'path' | 'ensureKey' | 'removal' | 'runs' | 'stop';
interface ShardRequest {
  id: number;
  op: ShardOp;
  arg?: unknown;
}
type ShardReply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };

/** A shard in a child process (this script with `--shard K`), asked over the IPC channel. */
class ChildShard implements Shard {
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private ended: Error | undefined;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: ShardReply) => {
      const waiting = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) waiting?.resolve(m.value);
      else waiting?.reject(new Error(`${label}: ${m.error}`));
    });
    const end = (why: string) => {
      this.ended ??= new Error(`${label} ${why}`);
      for (const w of this.pending.values()) w.reject(this.ended);
      this.pending.clear();
    };
    child.on('exit', (code, signal) => end(`exited (${signal ?? `code ${code}`})`));
    child.on('error', (err) => end(`failed: ${err.message}`));
  }

  static async start(k: number): Promise<ChildShard> {
    // The same script, under the same loader (tsx's --require/--import are in execArgv).
    const child = fork(__filename, ['--shard', String(k)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const shard = new ChildShard(`shard ${k}`, child);
    // Id 0 is the child's answer once its embedded AWS has deployed the stack.
    await new Promise((resolve, reject) => shard.pending.set(0, { resolve, reject }));
    return shard;
  }

  private call<T>(op: ShardOp, arg?: unknown): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, arg } satisfies ShardRequest);
    });
  }

  facts = () => this.call<StackFacts>('facts');
  path = (name: string) => this.call<PathRun>('path', name);
  ensureKey = () => this.call<void>('ensureKey');
  removal = (r: Removal) => this.call<RemovalResult>('removal', r);
  runs = () => this.call<number>('runs');

  async stop(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.call<void>('stop').catch(() => undefined);
    await exited;
  }
}

/** The child side of ChildShard: one Prover, one request at a time from the coordinator. */
async function shardMain(k: number): Promise<void> {
  shardLabel = `shard ${k}`;
  const reply = (m: ShardReply) =>
    new Promise<void>((resolve) => {
      if (!process.send?.(m, () => resolve())) resolve();
    });
  const failure = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err));
  let prover: Prover;
  try {
    prover = await Prover.start(shardLabel);
  } catch (err) {
    await reply({ id: 0, ok: false, error: failure(err) });
    process.exit(1);
  }
  // The coordinator gone (it failed or was killed): stop the embedded AWS and end.
  process.on('disconnect', () => {
    void prover.stop().finally(() => process.exit(1));
  });
  const ops: Record<ShardOp, (arg: unknown) => Promise<unknown>> = {
    facts: () => prover.facts(),
    path: (arg) => prover.path(arg as string),
    ensureKey: () => prover.ensureKey(),
    removal: (arg) => prover.removal(arg as Removal),
    runs: () => prover.runs(),
    stop: () => prover.stop(),
  };
  process.on('message', async ({ id, op, arg }: ShardRequest) => {
    try {
      const value = await ops[op](arg);
      if (op === 'stop') process.removeAllListeners('disconnect');
      await reply({ id, ok: true, value });
      // Stopped: nothing of the embedded AWS is left to wait for.
      if (op === 'stop') process.exit(0);
    } catch (err) {
      await reply({ id, ok: false, error: failure(err) });
    }
  });
  await reply({ id: 0, ok: true });
}

/** PROVE_IAM_SHARDS: how many embedded AWS run the paths at once (1: in this process, in order). */
function shardCount(): number {
  const raw = process.env.PROVE_IAM_SHARDS ?? '3';
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 8)
    throw new Error(`PROVE_IAM_SHARDS must be a whole number from 1 to 8, not '${raw}'`);
  return count;
}

async function startShards(count: number): Promise<Shard[]> {
  if (count === 1) return [await Prover.start('shard 0')];
  const started = await Promise.allSettled(Array.from({ length: count }, (_, k) => ChildShard.start(k)));
  const shards = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(shards.map((s) => s.stop()));
    throw failed.reason;
  }
  return shards;
}

/**
 * Runs JOBS on the shards, each taken by the first shard free, after SETUP on each shard. A job
 * that throws stops the others from taking more; the first error is thrown once every shard has
 * ended the job it had.
 */
async function onShards<T>(
  shards: Shard[],
  jobs: T[],
  run: (shard: Shard, job: T) => Promise<void>,
  setup?: (shard: Shard, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  await Promise.all(
    shards.map(async (shard, i) => {
      try {
        await setup?.(shard, i);
        while (!failure && next < jobs.length) await run(shard, jobs[next++] as T);
      } catch (err) {
        failure ??= { err };
      }
    }),
  );
  if (failure) throw failure.err;
}

/** The matrix row of a removal, from what its reruns were refused. */
function rowOf(
  { roleName: role, action }: Removal,
  usedBy: string[],
  keep: string | undefined,
  { refusal, refusedIn, broke, reruns }: RemovalResult,
): Row {
  if (refusal)
    return {
      role,
      action,
      usedBy,
      verdict: 'needed',
      proof: `${broke ? 'breaks' : 'refused in'} "${refusedIn}"${broke ? ` (${broke.slice(0, 90)})` : ''}`,
    };
  if (keep && usedBy.length > 0)
    // A kept action for a race (the lost wake-up) that the baseline happened to hit and the
    // rerun did not: still kept for its reason, and said so.
    return {
      role,
      action,
      usedBy,
      verdict: 'kept',
      proof: `${keep} — asked for in the baseline's "${usedBy.join('", "')}", not in the reruns`,
    };
  return {
    role,
    action,
    usedBy,
    verdict: usedBy.length === 0 ? 'UNNEEDED' : 'NOT REFUSED',
    proof:
      usedBy.length === 0 ? 'no path asks for it' : `removed, yet nothing was refused (${reruns.join('; ')})`,
  };
}

export async function main(): Promise<number> {
  const started = Date.now();
  const count = shardCount();
  const shards = await startShards(count);
  const [first] = shards as [Shard];
  try {
    const facts = await first.facts();
    console.log(`prove:iam — IAM ${facts.mode}; ${PATHS.length} workflow paths\n`);
    if (count > 1)
      note(
        `  on ${count} embedded AWS at once (PROVE_IAM_SHARDS), up in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
      );
    // 1. The untouched stack passes every path. The first path (no key yet) runs on a fresh
    // stack, as it always has; every other shard makes its key first, as that path would have.
    const results: PathRun[] = [];
    let printed = 0;
    let failures = 0;
    const runBaseline = async (shard: Shard, p: PathDef) => {
      results[PATHS.indexOf(p)] = await shard.path(p.name);
      // In the order of PATHS, as soon as every path before has ended.
      for (let r = results[printed]; r !== undefined; r = results[++printed]) {
        const q = PATHS[printed] as PathDef;
        const denied = r.decisions.filter((d) => d.result !== 'Allowed' && !d.probe);
        const good = r.outcome.ok && denied.length === 0;
        if (!good) failures += 1;
        console.log(
          `  ${good ? 'ok  ' : 'FAIL'} ${q.name.padEnd(48)} ${`${(r.ms / 1000).toFixed(1)} s`.padStart(7)}  ${r.outcome.detail}${denied.length ? ` — refused: ${denied.map((d) => d.action).join(', ')}` : ''}`,
        );
      }
    };
    await onShards(shards, PATHS.slice(1), runBaseline, (shard, i) =>
      i === 0 ? runBaseline(shard, PATHS[0] as PathDef) : shard.ensureKey(),
    );
    const baseline = new Map(PATHS.map((p, i) => [p.name, results[i] as PathRun]));
    if (failures > 0) {
      console.log(`\nverdict: FAIL — ${failures} path(s) fail on the untouched stack`);
      return 1;
    }

    console.log(
      `\n  the untouched stack: ${PATHS.length} paths in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );

    // 2. Each action of each role, removed one at a time.
    const rows: Row[] = [];
    const removals: { row: number; removal: Removal; usedBy: string[]; keep?: string; cost: number }[] = [];
    // PROVE_IAM_ONLY="remediate bedrock:GetCustomModel,…": only those (role fragment, action) rows.
    const only = process.env.PROVE_IAM_ONLY?.split(',').map((x) => x.trim().split(' '));
    for (const role of facts.roles) {
      if (!role.assumed) {
        // serverless's default role (no function uses it with serverless-iam-roles-per-function),
        // its custom-resource role (runs at deploy time; the embedded deployer applies its effect),
        // and the model-user role (the models' users assume it for inference, outside the workflow).
        rows.push({
          role: role.name,
          action: '(whole role)',
          usedBy: [],
          verdict: 'kept',
          proof: role.name.endsWith('-model-user')
            ? "the custom models' users assume it for inference (bedrock:InvokeModel*), which the embedded AWS does not serve"
            : 'not assumed at run time (serverless default or deploy-time custom-resource role)',
        });
        continue;
      }
      for (const action of role.actions) {
        if (only && !only.some(([f, a]) => role.name.includes(f ?? '') && a === action)) continue;
        const usedBy = [...baseline.entries()]
          .filter(([, r]) =>
            r.decisions.some(
              (d) => roleNameOf(d.principal) === role.name && d.action.toLowerCase() === action.toLowerCase(),
            ),
          )
          .map(([name]) => name);
        const keep =
          KEEP[action] ??
          Object.entries(KEEP_FOR).find(([k]) => {
            const [fragment, a] = k.split(' ');
            return a === action && role.name.includes(fragment ?? '');
          })?.[1];
        if (usedBy.length === 0 && keep) {
          rows.push({ role: role.name, action, usedBy, verdict: 'kept', proof: keep });
          continue;
        }
        // The quickest of the paths that used the action first: a removal is refused in any
        // path that asks for it, so the order changes only how soon the refusal is seen.
        const paths = (usedBy.length > 0 ? PATHS.filter((p) => usedBy.includes(p.name)) : PATHS)
          .slice()
          .sort((a, b) => (baseline.get(a.name)?.ms ?? 0) - (baseline.get(b.name)?.ms ?? 0))
          .map((p) => p.name);
        const removal = {
          roleName: role.name,
          roleArn: role.arn,
          action,
          paths,
          verbose: only !== undefined,
        };
        const cost =
          usedBy.length > 0
            ? (baseline.get(paths[0] ?? '')?.ms ?? 0)
            : [...baseline.values()].reduce((sum, r) => sum + r.ms, 0);
        removals.push({ row: rows.length, removal, usedBy, ...(keep ? { keep } : {}), cost });
        rows.push({ role: role.name, action, usedBy, verdict: 'needed', proof: '(not run)' });
      }
    }
    // One shard takes them in the matrix's order; several take the longest first, so that no
    // long removal starts last and runs alone (each removal's verdict is its own shard's runs).
    if (count > 1) removals.sort((a, b) => b.cost - a.cost || a.row - b.row);
    const announced = new Set<string>();
    await onShards(shards, removals, async (shard, { row, removal, usedBy, keep }) => {
      if (!announced.has(removal.roleName)) {
        announced.add(removal.roleName);
        note(`  removing each action of ${removal.roleName} …\n`);
      }
      rows[row] = rowOf(removal, usedBy, keep, await shard.removal(removal));
    });

    // The matrix.
    const short = (r: string) =>
      r.replace(/^tunevault-[a-z0-9]+-/, '').replace(/-us-[a-z]+-\d-lambdaRole$/, '');
    console.log(`\n${'role'.padEnd(34)} ${'action'.padEnd(36)} ${'verdict'.padEnd(11)} proof / reason`);
    for (const r of rows)
      console.log(`${short(r.role).padEnd(34)} ${r.action.padEnd(36)} ${r.verdict.padEnd(11)} ${r.proof}`);
    const needed = rows.filter((r) => r.verdict === 'needed').length;
    const kept = rows.filter((r) => r.verdict === 'kept').length;
    const wrong = rows.filter((r) => r.verdict === 'UNNEEDED' || r.verdict === 'NOT REFUSED');
    const n = (await Promise.all(shards.map((s) => s.runs()))).reduce((sum, x) => sum + x, 0);
    console.log(
      `\n${rows.length} granted actions over ${facts.roles.length} roles: ${needed} needed (refused when removed), ${kept} kept with a reason, ${wrong.length} not needed.`,
    );
    console.log(`${n} path runs in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    console.log(
      wrong.length === 0
        ? 'verdict: PASS — every path passes untouched, every granted action is needed or kept with a reason'
        : `verdict: FAIL — not needed: ${wrong.map((r) => `${short(r.role)} ${r.action}`).join(', ')}`,
    );
    return wrong.length === 0 ? 0 : 1;
  } finally {
    await Promise.allSettled(shards.map((s) => s.stop()));
  }
}

if (require.main === module) {
  const k = process.argv.indexOf('--shard');
  if (k >= 0)
    shardMain(Number(process.argv[k + 1])).catch((err: unknown) => {
      console.error(`prove:iam shard: ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    });
  else
    main().then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        console.error(`prove:iam: ${err instanceof Error ? err.stack : String(err)}`);
        process.exitCode = 1;
      },
    );
}
