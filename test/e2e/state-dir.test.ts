/**
 * `tunevault local --state-dir DIR`: everything a run leaves behind survives a restart of the
 * embedded AWS on the same directory — the objects, the CMK and its alias (and what it
 * encrypted), the custom model, the closed execution, the table's items — and redeploying the
 * stack on restart creates nothing twice. (Without a state dir nothing is kept: every other e2e
 * suite starts from an empty embedded AWS.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetCustomModelCommand, ListCustomModelsCommand } from '@aws-sdk/client-bedrock';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
} from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { field } from '../../cli/lib/run-view';
import { DATA, type Harness, startHarness } from './support/embedded';

let dir: string;
let h: Harness | undefined;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunevault-state-'));
});
afterAll(async () => {
  await h?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function clients(harness: Harness) {
  const cc = {
    endpoint: harness.aws.url,
    region: harness.aws.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  return { kms: new KMSClient(cc), dynamo: new DynamoDBClient(cc) };
}

async function keyCount(kms: KMSClient): Promise<number> {
  return (await kms.send(new ListKeysCommand({ Limit: 1000 }))).Keys?.length ?? 0;
}

it('keeps objects, key, alias, model, execution and table items across a restart', async () => {
  // ---- first life: a run to completion
  h = await startHarness({ stateDir: dir });
  const first = clients(h);
  const { run, object, executionArn } = await h.drop('survivor');
  expect(run.status).toBe('SUCCEEDED');
  const keyArn = field(run.state, 'key', 'keyArn') as string;
  const modelArn = field(run.state, 'model', 'modelArn') as string;
  expect(keyArn).toMatch(/^arn:aws:kms:/);
  expect(modelArn).toMatch(/^arn:aws:bedrock:/);
  const alias = (await first.kms.send(new ListAliasesCommand({ KeyId: keyArn }))).Aliases?.[0]?.AliasName;
  expect(alias).toBe('alias/tunevault-dev');
  const sealed = await first.kms.send(new EncryptCommand({ KeyId: alias, Plaintext: Buffer.from('kept') }));
  const policy = (await first.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })))
    .Policy;
  const bucketKey = (await h.c.s3.send(new GetBucketEncryptionCommand({ Bucket: h.stack.trainingBucket })))
    .ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID;
  expect(bucketKey).toBeDefined();
  await first.dynamo.send(
    new PutItemCommand({
      TableName: h.stack.taskTokenTable,
      Item: { jobName: { S: 'state-dir-marker' }, taskToken: { S: 'kept' } },
    }),
  );
  const keysBefore = await keyCount(first.kms);
  const outputsBefore =
    (await h.c.s3.send(new ListObjectsV2Command({ Bucket: h.stack.outputBucket }))).KeyCount ?? 0;
  expect(outputsBefore).toBeGreaterThan(0);
  first.kms.destroy();
  first.dynamo.destroy();
  await h.stop();
  h = undefined;
  expect(fs.existsSync(path.join(dir, 'state.json'))).toBe(true);

  // ---- second life: same directory, a new process-level start (new port)
  h = await startHarness({ stateDir: dir });
  const second = clients(h);

  // S3: the dataset (SSE-KMS: decrypting it needs the restored key) and the job's outputs.
  const body = await h.c.s3.send(
    new GetObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }),
  );
  expect(await body.Body?.transformToString()).toBe(DATA);
  expect(body.ServerSideEncryption).toBe('aws:kms');
  expect((await h.c.s3.send(new ListObjectsV2Command({ Bucket: h.stack.outputBucket }))).KeyCount).toBe(
    outputsBefore,
  );

  // KMS: same key under the same alias, its policy kept, old ciphertext still opens; the redeploy
  // reused the stack's bucket key instead of creating another one.
  const described = await second.kms.send(new DescribeKeyCommand({ KeyId: 'alias/tunevault-dev' }));
  expect(described.KeyMetadata?.Arn).toBe(keyArn);
  expect(described.KeyMetadata?.KeyState).toBe('Enabled');
  expect(
    (await second.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }))).Policy,
  ).toBe(policy);
  const opened = await second.kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
  expect(Buffer.from(opened.Plaintext as Uint8Array).toString()).toBe('kept');
  expect(await keyCount(second.kms)).toBe(keysBefore);
  const bucketKeyAfter = (
    await h.c.s3.send(new GetBucketEncryptionCommand({ Bucket: h.stack.trainingBucket }))
  ).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID;
  expect(bucketKeyAfter).toBe(bucketKey);

  // Bedrock: the custom model, still encrypted with the CMK.
  const model = await h.c.bedrock.send(new GetCustomModelCommand({ modelIdentifier: modelArn }));
  expect(model.modelKmsKeyArn).toBe(keyArn);
  expect((await h.c.bedrock.send(new ListCustomModelsCommand({}))).modelSummaries).toHaveLength(1);

  // Step Functions: the closed execution is listed and described.
  const listed = await h.c.sfn.send(new ListExecutionsCommand({ stateMachineArn: h.stack.stateMachineArn }));
  expect(listed.executions?.map((e) => [e.executionArn, e.status])).toEqual([[executionArn, 'SUCCEEDED']]);
  expect((await h.c.sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('SUCCEEDED');

  // DynamoDB: the table's items.
  const items = await second.dynamo.send(new ScanCommand({ TableName: h.stack.taskTokenTable }));
  expect(items.Items?.map((i) => i.jobName?.S)).toContain('state-dir-marker');

  second.kms.destroy();
  second.dynamo.destroy();
});
