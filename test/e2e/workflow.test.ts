/**
 * The whole workflow on the embedded AWS: real state machine, real handlers (bundled as for a
 * deploy), real SDK calls over HTTP.
 */
import { GetCustomModelCommand } from '@aws-sdk/client-bedrock';
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  GetObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
} from '@aws-sdk/client-s3';
import { field } from '../../cli/lib/run-view';
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import type { Readable } from 'node:stream';
import { scanTrainingData } from '../../functions/shared/guard';
import { parseS3Uri } from '../../functions/shared/naming';
import { type Harness, LEAKY, startHarness, TEST_PARAMS } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ params: TEST_PARAMS.eventPath });
});
afterAll(async () => {
  await h?.stop();
});

describe('the customization workflow on the embedded AWS', () => {
  it('happy path: a CMK-encrypted, tagged model, metrics in the output bucket, a completion event', async () => {
    // The job ends once the run is parked (on a loaded machine a timed job can end before the run
    // reaches WaitForJob, which then finds it ended): the event answers.
    const { run, object } = await h.dropResumedByEvent('happy path');

    expect(run.status).toBe('SUCCEEDED');
    expect(h.statesEntered(run)).toEqual([
      'ValidateBucketEncryption',
      'EnsureCustomerManagedKey',
      'ScanTrainingData',
      'AdmitJob',
      'SubmitCustomizationJob',
      'WaitForJob',
      'JobFinished',
      'FinalizeCustomModel',
      'NotifyCompleted',
      'Succeeded',
    ]);
    expect(field(run.state, 'jobResult', 'resumedBy')).toBe('event');
    // A free slot: admitted on arrival, without waiting.
    expect(run.state.admission).toMatchObject({ admitted: true, by: 'arrival', waitedMs: 0 });
    const keyArn = field(run.state, 'key', 'keyArn') as string;
    expect(field(run.state, 'key', 'created')).toBe(true);

    const model = await h.c.bedrock.send(
      new GetCustomModelCommand({ modelIdentifier: field(run.state, 'model', 'modelArn') }),
    );
    expect(model.modelKmsKeyArn).toBe(keyArn);

    const metrics = await h.c.s3.send(
      new ListObjectsV2Command({ Bucket: h.stack.outputBucket, Prefix: h.stack.outputPrefix }),
    );
    const csv = metrics.Contents?.find((o) =>
      o.Key?.endsWith('training_artifacts/step_wise_training_metrics.csv'),
    );
    expect(csv).toBeDefined();
    const body = await h.c.s3.send(new GetObjectCommand({ Bucket: h.stack.outputBucket, Key: csv?.Key }));
    expect(body.ServerSideEncryption).toBe('aws:kms');
    expect((await body.Body?.transformToString())?.split('\n')[0]).toBe(
      'step_number,epoch_number,training_loss,perplexity',
    );

    const tags = await h.c.s3.send(new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key }));
    expect(tags.TagSet).toEqual(expect.arrayContaining([{ Key: 'tunevault:status', Value: 'trained' }]));

    const completed = h.notifications('TuneVault Run Completed');
    expect(completed.map((e) => (e.detail as { executionArn: string }).executionArn)).toContain(
      run.executionArn,
    );
  });

  it('reuses the key on a second run and leaves it untouched', async () => {
    const first = await h.drop('key reuse first');
    expect(first.run.status).toBe('SUCCEEDED');
    const keyArn = field(first.run.state, 'key', 'keyArn') as string;
    const keyPolicy = async () =>
      (await h.c.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy;
    const policyBefore = await keyPolicy();

    const { run } = await h.drop('key reuse second');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.state.key).toMatchObject({
      keyArn,
      created: false,
      policyChanged: false,
      statementsAdded: [],
    });
    expect(await keyPolicy()).toBe(policyBefore);
  });

  it('completes by the poll when the job-state events are lost', async () => {
    h.aws.events.dropNext(2, { source: 'aws.bedrock', detailType: 'Model Customization Job State Change' });
    const { run } = await h.drop('events lost');
    expect(run.status).toBe('SUCCEEDED');
    expect(h.statesEntered(run)).toContain('CheckCustomizationJob');
    expect(field(run.state, 'jobResult', 'resumedBy')).toBe('poll');
    // How soon the poll comes is checked by the run's structure in reliability-events.test.ts
    // ("lost: the poll completes the run …"), not by a stopwatch here.
  });

  it('a failing job ends in Remediate and Notify, with the failure message', async () => {
    h.aws.bedrock.setNextOutcome({ status: 'Failed', failureMessage: 'Simulated: training diverged' });
    const { run } = await h.drop('failing job');
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CustomizationJobFailedError');
    expect(run.cause).toContain('Simulated: training diverged');
    expect(h.statesEntered(run).slice(-3)).toEqual(['Remediate', 'NotifyFailed', 'RunFailed']);
    const failed = h
      .notifications()
      .filter((e) => (e.detail as { executionArn: string }).executionArn === run.executionArn);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.detail).toMatchObject({
      error: 'CustomizationJobFailedError',
      failureMessage: expect.stringContaining('training diverged'),
      // Bedrock's own account of the job: where it failed and why.
      job: {
        status: 'Failed',
        failedIn: 'training',
        statusDetails: 'validation Completed · data processing Completed · training Failed',
        failureMessage: 'Simulated: training diverged',
      },
    });
  });

  it('the data guard blocks secrets: no job, the object quarantined', async () => {
    const { run, object } = await h.drop('leaky blocked', LEAKY);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('SensitiveDataError');
    expect(run.cause).not.toContain('AKIAZ7Q3XK2M4PLN8WRT');
    expect(h.statesEntered(run)).not.toContain('SubmitCustomizationJob');
    expect(await h.jobsNamed('leaky-blocked')).toHaveLength(0);
    const tags = await h.c.s3.send(new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key }));
    expect(tags.TagSet).toEqual(expect.arrayContaining([{ Key: 'tunevault:status', Value: 'quarantined' }]));
  });

  it('the redact policy trains on a sanitized copy that a re-scan finds clean', async () => {
    const { run } = await h.drop('leaky redacted', LEAKY, { dataPolicy: { policy: 'redact' } });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.state.scan).toMatchObject({ verdict: 'redact', totalFindings: 1 });
    const job = await h.c.bedrock.send(
      new GetModelCustomizationJobCommand({ jobIdentifier: field(run.state, 'job', 'jobArn') }),
    );
    const trainedOn = job.trainingDataConfig?.s3Uri ?? '';
    expect(trainedOn).toBe(field(run.state, 'scan', 'trainingS3Uri'));
    expect(trainedOn.startsWith(`s3://${h.stack.outputBucket}/`)).toBe(true);

    const { bucket, key } = parseS3Uri(trainedOn);
    const copy = await h.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(copy.ServerSideEncryption).toBe('aws:kms');
    expect(copy.SSEKMSKeyId).toBe(field(run.state, 'key', 'keyArn'));
    const rescan = await scanTrainingData(copy.Body as Readable, {
      family: 'bedrock-conversation-2024',
      policy: 'block',
    });
    expect(rescan).toMatchObject({ verdict: 'pass', totalFindings: 0, records: 9, validRecords: 9 });
  });

  it('a non-compliant bucket submits no job', async () => {
    const Bucket = h.stack.trainingBucket;
    const { ServerSideEncryptionConfiguration: before } = await h.c.s3.send(
      new GetBucketEncryptionCommand({ Bucket }),
    );
    await h.c.s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
    );
    // The bucket is put back as it was, whatever the run does: later tests start from it.
    const { run } = await h
      .drop('sse s3 only')
      .finally(() =>
        h.c.s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: before })),
      );
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('BucketNotCompliantError');
    expect(run.cause).toContain('[default-encryption]');
    expect(h.statesEntered(run)).not.toContain('SubmitCustomizationJob');
    expect(await h.jobsNamed('sse-s3-only')).toHaveLength(0);
  });
});
