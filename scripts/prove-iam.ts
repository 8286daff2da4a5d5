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
 */
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
    process.stderr.write(
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

export async function main(): Promise<number> {
  const started = Date.now();
  // One Bedrock job at a time (read from Service Quotas), so two runs at once make one wait; a short
  // key lease and quota cap so the dead-holder and quota-refusal paths end quickly. The poll (4 s)
  // leaves the answered-at-once paths' 1 s hold on WaitForJob's look at the job a wide margin on a
  // loaded machine: WaitForJob's timeout counts from the state's start, and would answer first.
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
  let n = 0;
  try {
    console.log(`prove:iam — IAM ${h.aws.authorizer.mode}; ${PATHS.length} workflow paths\n`);
    const progress = (m: string) => process.stderr.write(m);
    // 1. The untouched stack passes every path.
    const baseline = new Map<string, PathRun>();
    let failures = 0;
    for (const p of PATHS) {
      const r = await runPath(h, p, ++n);
      baseline.set(p.name, r);
      const denied = r.decisions.filter((d) => d.result !== 'Allowed' && !d.probe);
      const good = r.outcome.ok && denied.length === 0;
      if (!good) failures += 1;
      console.log(
        `  ${good ? 'ok  ' : 'FAIL'} ${p.name.padEnd(48)} ${`${(r.ms / 1000).toFixed(1)} s`.padStart(7)}  ${r.outcome.detail}${denied.length ? ` — refused: ${denied.map((d) => d.action).join(', ')}` : ''}`,
      );
    }
    if (failures > 0) {
      console.log(`\nverdict: FAIL — ${failures} path(s) fail on the untouched stack`);
      return 1;
    }

    console.log(
      `\n  the untouched stack: ${PATHS.length} paths in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );

    // 2. Each action of each role, removed one at a time.
    const alias = await aliasOf(h);
    const rows: Row[] = [];
    const assumed = new Set([
      ...h.stack.functions.map((f) => f.roleArn),
      h.stack.stateMachineRoleArn,
      h.stack.functions.find((f) => f.key === 'submitCustomizationJob')?.environment.BEDROCK_ROLE_ARN,
    ]);
    for (const role of h.aws.iam.listRoles()) {
      if (!assumed.has(role.arn)) {
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
      const actions = [
        ...new Set(
          role.policies.flatMap((p) =>
            policyStatements(p.document).flatMap((s) => (s.Action === undefined ? [] : [s.Action].flat())),
          ),
        ),
      ];
      progress(`  removing each action of ${role.name} …\n`);
      for (const action of actions) {
        // PROVE_IAM_ONLY="remediate bedrock:GetCustomModel,…": only those (role fragment, action) rows.
        const only = process.env.PROVE_IAM_ONLY?.split(',').map((x) => x.trim().split(' '));
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
        // admitJob reads the account's quota once per container (then every 15 minutes): in a
        // fresh container for each path, it asks again, and once the action is back a fresh one
        // forgets what it read without it (the fallback of 2 slots would let the next paths' second
        // run through instead of making it wait). No other function caches what a permission
        // reads; recycling all of them would only pile up module instances.
        const recycled = h.stack.functions.find((f) => f.roleArn === role.arn && f.key === 'admitJob');
        const undo = h.aws.iam.withoutAction(role.arn, action);
        try {
          // The quickest of the paths that used the action first: a removal is refused in any
          // path that asks for it, so the order changes only how soon the refusal is seen.
          const toRun = (usedBy.length > 0 ? PATHS.filter((p) => usedBy.includes(p.name)) : PATHS)
            .slice()
            .sort((a, b) => (baseline.get(a.name)?.ms ?? 0) - (baseline.get(b.name)?.ms ?? 0));
          let refusal: Decision | undefined;
          let refusedIn: string | undefined;
          let broke: string | undefined;
          const reruns: string[] = [];
          for (const p of toRun) {
            if (recycled) h.aws.lambda.recycle(recycled.key);
            const r = await runPath(h, p, ++n);
            if (only) progress(`    ${action} removed: "${p.name}" → ${r.outcome.detail}\n`);
            if (process.env.PROVE_IAM_DEBUG)
              for (const d of r.decisions.filter((d) => roleNameOf(d.principal) === role.name))
                progress(`      ${d.result} ${d.action} ${JSON.stringify(d.resource ?? '').slice(0, 120)}\n`);
            reruns.push(`"${p.name}" → ${r.outcome.detail.slice(0, 240)}`);
            const found = r.decisions.find(
              (d) =>
                d.result !== 'Allowed' &&
                roleNameOf(d.principal) === role.name &&
                d.action.toLowerCase() === action.toLowerCase(),
            );
            if (!r.outcome.ok && found) broke ??= r.outcome.detail;
            if (found && !refusal) {
              refusal = found;
              refusedIn = p.name;
              break;
            }
          }
          if (refusal)
            rows.push({
              role: role.name,
              action,
              usedBy,
              verdict: 'needed',
              proof: `${broke ? 'breaks' : 'refused in'} "${refusedIn}"${broke ? ` (${broke.slice(0, 90)})` : ''}`,
            });
          else if (keep && usedBy.length > 0)
            // A kept action for a race (the lost wake-up) that the baseline happened to hit and the
            // rerun did not: still kept for its reason, and said so.
            rows.push({
              role: role.name,
              action,
              usedBy,
              verdict: 'kept',
              proof: `${keep} — asked for in the baseline's "${usedBy.join('", "')}", not in the reruns`,
            });
          else
            rows.push({
              role: role.name,
              action,
              usedBy,
              verdict: usedBy.length === 0 ? 'UNNEEDED' : 'NOT REFUSED',
              proof:
                usedBy.length === 0
                  ? 'no path asks for it'
                  : `removed, yet nothing was refused (${reruns.join('; ')})`,
            });
        } finally {
          undo();
          if (recycled) h.aws.lambda.recycle(recycled.key);
        }
        // A key bootstrap that failed for the missing action leaves no alias: make the key again,
        // with every permission back, so the next paths start from a deployed account.
        const aliases = (await h.c.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
        if (!aliases.some((a) => a.AliasName === alias)) await h.drop(`prove-restore-${++n}`);
      }
    }

    // The matrix.
    const short = (r: string) =>
      r.replace(/^tunevault-[a-z0-9]+-/, '').replace(/-us-[a-z]+-\d-lambdaRole$/, '');
    console.log(`\n${'role'.padEnd(34)} ${'action'.padEnd(36)} ${'verdict'.padEnd(11)} proof / reason`);
    for (const r of rows)
      console.log(`${short(r.role).padEnd(34)} ${r.action.padEnd(36)} ${r.verdict.padEnd(11)} ${r.proof}`);
    const needed = rows.filter((r) => r.verdict === 'needed').length;
    const kept = rows.filter((r) => r.verdict === 'kept').length;
    const wrong = rows.filter((r) => r.verdict === 'UNNEEDED' || r.verdict === 'NOT REFUSED');
    console.log(
      `\n${rows.length} granted actions over ${h.aws.iam.listRoles().length} roles: ${needed} needed (refused when removed), ${kept} kept with a reason, ${wrong.length} not needed.`,
    );
    console.log(`${n} path runs in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
    console.log(
      wrong.length === 0
        ? 'verdict: PASS — every path passes untouched, every granted action is needed or kept with a reason'
        : `verdict: FAIL — not needed: ${wrong.map((r) => `${short(r.role)} ${r.action}`).join(', ')}`,
    );
    return wrong.length === 0 ? 0 : 1;
  } finally {
    await h.stop();
  }
}

if (require.main === module) {
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
