/** KmsGateway: what the gateway sends and how it reads AWS's answers (aws-sdk-client-mock); which errors mean "absent" or "already done", and that every other error keeps its AWS name. One file per gateway, so a mutant in one loads only its own SDK client. */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand as KmsTagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { KmsGateway } from '../../../functions/shared/aws/kms';

const awsError = (name: string, message = `${name} message`) =>
  Object.assign(new Error(message), { name, $metadata: {} });
const kms = mockClient(KMSClient);
beforeEach(() => kms.reset());

describe('KmsGateway', () => {
  const gw = () => new KmsGateway(new KMSClient({}));
  const metadata = {
    Arn: 'arn:aws:kms:us-east-1:1:key/k',
    KeyId: 'k',
    KeyState: 'Enabled',
    KeySpec: 'SYMMETRIC_DEFAULT',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyManager: 'CUSTOMER',
  } as const;

  it('describes a key; missing fields read as Unknown; no ARN or no metadata is no key', async () => {
    kms
      .on(DescribeKeyCommand)
      .resolvesOnce({ KeyMetadata: metadata })
      .resolvesOnce({ KeyMetadata: { Arn: metadata.Arn, KeyId: 'k' } })
      .resolvesOnce({ KeyMetadata: { KeyId: 'k' } })
      .resolvesOnce({});
    const g = gw();
    await expect(g.describeKey('alias/x')).resolves.toEqual({
      keyArn: metadata.Arn,
      keyId: 'k',
      keyState: 'Enabled',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      keyManager: 'CUSTOMER',
    });
    await expect(g.describeKey('alias/x')).resolves.toEqual({
      keyArn: metadata.Arn,
      keyId: 'k',
      keyState: 'Unknown',
      keySpec: 'Unknown',
      keyUsage: 'Unknown',
      keyManager: 'Unknown',
    });
    await expect(g.describeKey('alias/x')).resolves.toBeUndefined();
    await expect(g.describeKey('alias/x')).resolves.toBeUndefined();
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/x' });
  });

  it('creates a symmetric encrypt/decrypt key with the policy and tags given', async () => {
    kms.on(CreateKeyCommand).resolvesOnce({ KeyMetadata: metadata }).resolvesOnce({});
    const g = gw();
    await expect(g.createKey({ description: 'd', policy: '{}', tags: { a: '1' } })).resolves.toMatchObject({
      keyId: 'k',
    });
    expect(kms).toHaveReceivedCommandWith(CreateKeyCommand, {
      Description: 'd',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Policy: '{}',
      Tags: [{ TagKey: 'a', TagValue: '1' }],
    });
    await expect(g.createKey({ description: 'd', policy: '{}', tags: {} })).rejects.toThrow(
      'CreateKey returned no key metadata',
    );
  });

  it("createAlias: 'created', 'exists' when another caller won, other errors bubble", async () => {
    kms
      .on(CreateAliasCommand)
      .resolvesOnce({})
      .rejectsOnce(awsError('AlreadyExistsException'))
      .rejectsOnce(awsError('NotFoundException'));
    const g = gw();
    await expect(g.createAlias('alias/x', 'k')).resolves.toBe('created');
    await expect(g.createAlias('alias/x', 'k')).resolves.toBe('exists');
    await expect(g.createAlias('alias/x', 'k')).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(kms).toHaveReceivedCommandWith(CreateAliasCommand, { AliasName: 'alias/x', TargetKeyId: 'k' });
  });

  it('reads and writes the default key policy', async () => {
    kms.on(GetKeyPolicyCommand).resolvesOnce({ Policy: '{"a":1}' }).resolvesOnce({});
    kms.on(PutKeyPolicyCommand).resolves({});
    const g = gw();
    await expect(g.getKeyPolicy('k')).resolves.toBe('{"a":1}');
    await expect(g.getKeyPolicy('k')).resolves.toBe('');
    expect(kms).toHaveReceivedCommandWith(GetKeyPolicyCommand, { KeyId: 'k', PolicyName: 'default' });
    await g.putKeyPolicy('k', '{"b":2}');
    expect(kms).toHaveReceivedCommandWith(PutKeyPolicyCommand, {
      KeyId: 'k',
      PolicyName: 'default',
      Policy: '{"b":2}',
    });
  });

  it('reads rotation as on only when KMS says true, and turns it on', async () => {
    kms
      .on(GetKeyRotationStatusCommand)
      .resolvesOnce({ KeyRotationEnabled: true })
      .resolvesOnce({ KeyRotationEnabled: false })
      .resolvesOnce({});
    kms.on(EnableKeyRotationCommand).resolves({});
    const g = gw();
    await expect(g.isRotationEnabled('k')).resolves.toBe(true);
    await expect(g.isRotationEnabled('k')).resolves.toBe(false);
    await expect(g.isRotationEnabled('k')).resolves.toBe(false);
    expect(kms).toHaveReceivedCommandWith(GetKeyRotationStatusCommand, { KeyId: 'k' });
    await g.enableRotation('k');
    expect(kms).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: 'k' });
  });

  it('tags a key and schedules its deletion with the window given', async () => {
    kms.on(KmsTagResourceCommand).resolves({});
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    const g = gw();
    await g.tagKey('k', { 'tunevault:orphan': 'true' });
    await g.scheduleDeletion('k', 7);
    expect(kms).toHaveReceivedCommandWith(KmsTagResourceCommand, {
      KeyId: 'k',
      Tags: [{ TagKey: 'tunevault:orphan', TagValue: 'true' }],
    });
    expect(kms).toHaveReceivedCommandWith(ScheduleKeyDeletionCommand, { KeyId: 'k', PendingWindowInDays: 7 });
  });
});

/** What GetObject's Body offers the gateway: a stream that can also be read whole as text. */

describe('KmsGateway: not found', () => {
  it('maps NotFoundException to undefined and keeps other errors', async () => {
    kms
      .on(DescribeKeyCommand)
      .rejectsOnce(awsError('NotFoundException'))
      .rejectsOnce(awsError('AccessDeniedException'));
    const gw = new KmsGateway(new KMSClient({}));
    await expect(gw.describeKey('alias/x')).resolves.toBeUndefined();
    await expect(gw.describeKey('alias/x')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe("KmsGateway.findKeysTagged (a dead bootstrap holder's key, found by its tags)", () => {
  const gw = () => new KmsGateway(new KMSClient({}));
  const described = (keyId: string) => ({
    KeyMetadata: {
      Arn: `arn:aws:kms:us-east-1:1:key/${keyId}`,
      KeyId: keyId,
      KeyState: 'Enabled',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyManager: 'CUSTOMER',
    } as const,
  });
  const tagged = (value: string) => ({ Tags: [{ TagKey: 'tunevault:lease', TagValue: value }] });

  it('pages through ListKeys and returns the keys carrying the tag with that value, described', async () => {
    kms
      .on(ListKeysCommand)
      .resolvesOnce({ Keys: [{ KeyId: 'k1' }, { KeyId: 'k2' }, {}], Truncated: true, NextMarker: 'm1' })
      .resolvesOnce({ Keys: [{ KeyId: 'k3' }, { KeyId: 'k4' }], Truncated: false, NextMarker: 'ignored' });
    kms
      .on(ListResourceTagsCommand, { KeyId: 'k1' })
      .resolves(tagged('run-a'))
      .on(ListResourceTagsCommand, { KeyId: 'k2' })
      .resolves(tagged('run-b'))
      .on(ListResourceTagsCommand, { KeyId: 'k3' })
      .rejects(awsError('AccessDeniedException'))
      .on(ListResourceTagsCommand, { KeyId: 'k4' })
      .resolves({
        Tags: [
          { TagKey: 'other', TagValue: 'run-a' },
          { TagKey: 'tunevault:lease', TagValue: 'run-a' },
        ],
      });
    kms.on(DescribeKeyCommand, { KeyId: 'k1' }).resolves(described('k1'));
    kms.on(DescribeKeyCommand, { KeyId: 'k4' }).resolves(described('k4'));

    const found = await gw().findKeysTagged('tunevault:lease', 'run-a');
    expect(found.map((k) => k.keyId)).toEqual(['k1', 'k4']);
    expect(kms.commandCalls(ListKeysCommand).map((c) => c.args[0].input)).toEqual([
      { Limit: 1000 },
      { Limit: 1000, Marker: 'm1' },
    ]);
    // Only the keys whose tags matched were described.
    expect(kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId)).toEqual(['k1', 'k4']);
  });

  it('does not take the value under another tag key, and stops listing once maxKeys keys were seen', async () => {
    kms
      .on(ListKeysCommand)
      .resolvesOnce({ Keys: [{ KeyId: 'k1' }, { KeyId: 'k2' }], Truncated: true, NextMarker: 'm1' })
      .resolvesOnce({ Keys: [{ KeyId: 'k3' }], Truncated: false });
    kms
      .on(ListResourceTagsCommand, { KeyId: 'k1' })
      .resolves({ Tags: [{ TagKey: 'other', TagValue: 'run-a' }] })
      .on(ListResourceTagsCommand, { KeyId: 'k2' })
      .resolves(tagged('run-a'));
    kms.on(DescribeKeyCommand).callsFake((input: { KeyId: string }) => described(input.KeyId));
    const found = await gw().findKeysTagged('tunevault:lease', 'run-a', 2);
    expect(found.map((k) => k.keyId)).toEqual(['k2']);
    expect(kms.commandCalls(ListKeysCommand)).toHaveLength(1);
  });

  it('skips a key deleted meanwhile (NotFound), keeps other errors, and drops a key that no longer describes', async () => {
    kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: 'gone' }, { KeyId: 'k1' }] });
    kms
      .on(ListResourceTagsCommand, { KeyId: 'gone' })
      .rejects(awsError('NotFoundException'))
      .on(ListResourceTagsCommand, { KeyId: 'k1' })
      .resolves(tagged('run-a'));
    kms.on(DescribeKeyCommand).rejects(awsError('NotFoundException'));
    await expect(gw().findKeysTagged('tunevault:lease', 'run-a')).resolves.toEqual([]);

    kms.reset();
    kms.on(ListKeysCommand).resolves({ Keys: [{ KeyId: 'k1' }] });
    kms.on(ListResourceTagsCommand).rejects(awsError('KMSInternalException'));
    await expect(gw().findKeysTagged('tunevault:lease', 'run-a')).rejects.toMatchObject({
      name: 'KMSInternalException',
    });
  });

  it('stops after maxKeys keys: no further tags read and no further page asked for', async () => {
    kms
      .on(ListKeysCommand)
      .resolvesOnce({
        Keys: [{ KeyId: 'k1' }, { KeyId: 'k2' }, { KeyId: 'k3' }],
        Truncated: true,
        NextMarker: 'm',
      })
      .resolvesOnce({ Keys: [{ KeyId: 'k4' }] });
    kms.on(ListResourceTagsCommand).resolves(tagged('run-a'));
    kms.on(DescribeKeyCommand, { KeyId: 'k1' }).resolves(described('k1'));
    kms.on(DescribeKeyCommand, { KeyId: 'k2' }).resolves(described('k2'));
    const found = await gw().findKeysTagged('tunevault:lease', 'run-a', 2);
    expect(found.map((k) => k.keyId)).toEqual(['k1', 'k2']);
    expect(kms.commandCalls(ListResourceTagsCommand)).toHaveLength(2);
    expect(kms.commandCalls(ListKeysCommand)).toHaveLength(1);
  });

  it('reads a page without Keys as empty', async () => {
    kms.on(ListKeysCommand).resolves({});
    await expect(gw().findKeysTagged('tunevault:lease', 'run-a')).resolves.toEqual([]);
  });
});
