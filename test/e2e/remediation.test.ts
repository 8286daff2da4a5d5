/**
 * Remediation: a model that is not encrypted with our key never survives a run, and
 * `tunevault remediate` deletes a model trained on data it should not have seen, quarantines
 * that data and retrains on a redacted copy — the guide's "delete the model, filter the data,
 * create a new model".
 */
import { GetCustomModelCommand } from '@aws-sdk/client-bedrock';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { main } from '../../cli/main';
import { capturedCli } from '../support/cli-output';
import { field } from '../../cli/lib/run-view';
import { chat, FILLER, type Harness, startHarness } from './support/embedded';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

async function modelExists(modelArn: string): Promise<boolean> {
  try {
    await h.c.bedrock.send(new GetCustomModelCommand({ modelIdentifier: modelArn }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return false;
    throw err;
  }
}

async function tagsOf(bucket: string, key: string, versionId?: string) {
  const out = await h.c.s3.send(
    new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key, t.Value]));
}

/** Runs the CLI command in-process; answers its exit code and what it printed. */
const cli = (args: string[]) => capturedCli(() => main(['remediate', ...args, '--endpoint', h.aws.url]));

describe('a finished model that is not encrypted with our key', () => {
  it.each([
    ['another customer managed key', 'other-key'],
    ['an AWS owned key', null],
  ])('encrypted with %s: deleted, the run ends remediated with a notification', async (_label, which) => {
    let modelKmsKeyArn: string | null = null;
    if (which === 'other-key') {
      const other = await h.c.kms.send(new CreateKeyCommand({ Description: 'someone else’s key' }));
      modelKmsKeyArn = other.KeyMetadata?.Arn ?? null;
    }
    h.aws.bedrock.setNextOutcome({ status: 'Completed', modelKmsKeyArn });
    const name = `wrong key ${which ?? 'aws owned'}`;

    const { run, object } = await h.drop(name);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ModelNotCompliantError');
    expect(run.cause).toContain(modelKmsKeyArn ?? 'an AWS owned key');
    expect(h.statesEntered(run).slice(-4)).toEqual([
      'FinalizeCustomModel',
      'Remediate',
      'NotifyFailed',
      'RunFailed',
    ]);
    const modelArn = field(run.state, 'jobResult', 'outputModelArn') as string;
    expect(modelArn).toMatch(/:custom-model\//);
    expect(await modelExists(modelArn)).toBe(false);
    expect(field(run.state, 'remediation', 'outcome')).toBe('remediated');

    const notes = h
      .notifications('TuneVault Run Remediated')
      .filter((e) => (e.detail as { executionArn: string }).executionArn === run.executionArn);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.detail).toMatchObject({
      outcome: 'remediated',
      error: 'ModelNotCompliantError',
      modelArn,
      remediation: expect.arrayContaining([{ action: 'deleted-model', target: modelArn }]),
    });
    // The data is kept, and says what happened.
    await h.c.s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key }));
    expect(await tagsOf(object.bucket, object.key, object.versionId)).toMatchObject({
      'tunevault:status': 'remediated',
      'tunevault:reason': 'ModelNotCompliantError',
    });
  });
});

describe('tunevault remediate', () => {
  const PII_DATA = `${[
    chat(
      'Customer: Where is my refund?\nAgent:',
      ' I emailed maria.gonzalez@contoso-mail.com and called +1 415 555 0199 about it.',
    ),
    chat('Customer: How do I reset my router?\nAgent:', ' Hold the reset button for ten seconds.'),
    chat('Customer: My order arrived damaged.\nAgent:', ' Request a replacement from Orders.'),
    ...FILLER,
  ]
    .map((r) => JSON.stringify(r))
    .join('\n')}\n`;

  it('deletes the model, quarantines its dataset and retrains on a redacted copy', async () => {
    // The dataset's owner chose `report`: personal data was reported, and a model was trained on it.
    const sidecar = { dataPolicy: { policy: 'report' }, hyperParameters: { epochCount: '1' } };
    const { run, object } = await h.drop('support with pii', PII_DATA, sidecar);
    expect(run.status).toBe('SUCCEEDED');
    expect(field(run.state, 'scan', 'totalFindings')).toBe(2);
    const modelArn = field(run.state, 'model', 'modelArn') as string;

    const { code, stdout, stderr } = await cli([
      '--model',
      modelArn,
      '--reason',
      'trained on customer contact details',
      '--retrain',
      '--json',
    ]);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      model: { arn: modelArn, deleted: true },
      reason: 'trained on customer contact details',
      dataset: {
        bucket: object.bucket,
        key: object.key,
        versionId: object.versionId,
        foundBy: 'run-input',
        quarantined: true,
      },
      retrain: {
        key: `${h.stack.trainingPrefix}support with pii.redacted.jsonl`,
        sidecarKey: `${h.stack.trainingPrefix}support with pii.redacted.job.json`,
        dataPolicy: 'redact',
        findingsRedacted: 2,
        records: 8,
      },
    });
    expect(await modelExists(modelArn)).toBe(false);
    expect(await tagsOf(object.bucket, object.key, object.versionId)).toMatchObject({
      'tunevault:status': 'quarantined',
      'tunevault:reason': 'trained on customer contact details',
    });
    // The original data is untouched.
    const original = await h.c.s3.send(
      new GetObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
    );
    expect(await original.Body?.transformToString()).toBe(PII_DATA);

    const redacted = await (
      await h.c.s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: report.retrain.key }))
    ).Body?.transformToString();
    expect(redacted).not.toContain('maria.gonzalez@contoso-mail.com');
    expect(redacted).not.toContain('555 0199');
    expect(redacted).toContain('<EMAIL>');
    const newSidecar = JSON.parse(
      (await (
        await h.c.s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: report.retrain.sidecarKey }))
      ).Body?.transformToString()) ?? '{}',
    );
    expect(newSidecar).toMatchObject({
      dataPolicy: { policy: 'redact' },
      hyperParameters: { epochCount: '1' },
    });

    // The upload started a new run, which trains a new model on the redacted copy.
    const retrained = await h.finished(report.retrain.executionArn);
    expect(retrained.status).toBe('SUCCEEDED');
    const newModelArn = field(retrained.state, 'model', 'modelArn') as string;
    expect(newModelArn).not.toBe(modelArn);
    const newModel = await h.c.bedrock.send(new GetCustomModelCommand({ modelIdentifier: newModelArn }));
    expect(newModel.modelKmsKeyArn).toBe(field(retrained.state, 'key', 'keyArn'));
    expect(field(retrained.state, 'scan', 'verdict')).toBe('pass');
    // It trained on the run's own sanitized copy of the redacted file: no contact details in it.
    const trainedOn = newModel.trainingDataConfig?.s3Uri ?? '';
    expect(trainedOn).toBe(
      `s3://${h.stack.outputBucket}/${h.stack.outputPrefix}runs/${retrained.name}/redacted.jsonl`,
    );
    const trainedBytes = await (
      await h.c.s3.send(
        new GetObjectCommand({ Bucket: h.stack.outputBucket, Key: trainedOn.split('/').slice(3).join('/') }),
      )
    ).Body?.transformToString();
    expect(trainedBytes).not.toContain('maria.gonzalez@contoso-mail.com');
    expect(trainedBytes).toContain('<EMAIL>');
  });

  it('names the bad input: an unknown model, a malformed ARN, a missing reason (usage errors exit 64)', async () => {
    const unknown = `arn:aws:bedrock:${h.aws.region}:${h.aws.accountId}:custom-model/amazon.titan-text-express-v1/nosuchmodel1`;
    const missing = await cli(['--model', unknown, '--reason', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`--model '${unknown}': no such custom model`);

    const noReason = await cli(['--model', unknown]);
    expect(noReason.code).toBe(64);
    expect(noReason.stderr).toContain('--reason REASON');

    const empty = await cli(['--model', unknown, '--reason', '   ']);
    expect(empty.code).toBe(64);
    expect(empty.stderr).toContain('tunevault remediate: give --reason REASON');

    // Checked before any call: not "no such custom model".
    const notAnArn = await cli(['--model', 'not-an-arn', '--reason', 'x']);
    expect(notAnArn.code).toBe(64);
    expect(notAnArn.stderr).toMatch(/^tunevault remediate: --model 'not-an-arn' is not a custom model ARN/);
    const wrongService = await cli(['--model', h.stack.stateMachineArn, '--reason', 'x']);
    expect(wrongService.code).toBe(64);
    expect(wrongService.stderr).toContain('is not a custom model ARN');

    const json = await cli(['--model', unknown, '--reason', 'x', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: expect.stringContaining('no such custom model') });
  });
});
