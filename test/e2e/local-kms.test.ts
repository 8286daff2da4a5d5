/** The embedded KMS through the real SDK client: real envelope crypto and KMS's key-state rules. */
import { createDecipheriv, createCipheriv, randomBytes } from 'node:crypto';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import type { LocalEndpoint } from '../../local/core/server';
import { localClientConfig, startTestEndpoint } from '../../local/core/test-endpoint';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/core/types';
import { KmsService } from '../../local/services/kms';

let endpoint: LocalEndpoint;
let kms: KmsService;
let client: KMSClient;

beforeAll(async () => {
  kms = new KmsService({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
  endpoint = await startTestEndpoint([kms]);
  client = new KMSClient({ ...localClientConfig(endpoint.url), maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

async function newKey(description = 'test key'): Promise<string> {
  const out = await client.send(new CreateKeyCommand({ Description: description }));
  return out.KeyMetadata?.KeyId as string;
}

/** Resolves to the AWS error name (`err.name`) the SDK raised, or 'no error'. */
async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('keys', () => {
  it('creates a customer managed symmetric key with the default policy', async () => {
    const out = await client.send(
      new CreateKeyCommand({
        Description: 'tunevault',
        Tags: [{ TagKey: 'project', TagValue: 'tunevault' }],
      }),
    );
    const md = out.KeyMetadata;
    expect(md).toMatchObject({
      AWSAccountId: LOCAL_ACCOUNT_ID,
      Enabled: true,
      Description: 'tunevault',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    });
    expect(md?.KeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(md?.Arn).toBe(`arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:key/${md?.KeyId}`);
    expect(md?.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs((md?.CreationDate ?? new Date(0)).getTime() - Date.now())).toBeLessThan(10_000);

    const policy = await client.send(new GetKeyPolicyCommand({ KeyId: md?.KeyId, PolicyName: 'default' }));
    const doc = JSON.parse(policy.Policy as string);
    expect(doc.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root` },
      Action: 'kms:*',
    });
    const tags = await client.send(new ListResourceTagsCommand({ KeyId: md?.Arn }));
    expect(tags.Tags).toEqual([{ TagKey: 'project', TagValue: 'tunevault' }]);
  });

  it('accepts asymmetric specs but refuses them for symmetric operations', async () => {
    const rsa = await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }));
    expect(rsa.KeyMetadata?.EncryptionAlgorithms).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    const ecc = await client.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    );
    expect(ecc.KeyMetadata?.SigningAlgorithms).toEqual(['ECDSA_SHA_256']);
    expect(
      await errorOf(
        client.send(new GenerateDataKeyCommand({ KeyId: rsa.KeyMetadata?.KeyId, KeySpec: 'AES_256' })),
      ),
    ).toBe('InvalidKeyUsageException');
    expect(
      await errorOf(
        client.send(new EncryptCommand({ KeyId: ecc.KeyMetadata?.KeyId, Plaintext: Buffer.from('x') })),
      ),
    ).toBe('InvalidKeyUsageException');
    expect(await errorOf(client.send(new EnableKeyRotationCommand({ KeyId: rsa.KeyMetadata?.KeyId })))).toBe(
      'UnsupportedOperationException',
    );
    expect(await errorOf(client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256' })))).toBe(
      'ValidationException',
    );
  });

  it('rejects a malformed key policy', async () => {
    expect(await errorOf(client.send(new CreateKeyCommand({ Policy: '{"Version":"2012-10-17"' })))).toBe(
      'MalformedPolicyDocumentException',
    );
    expect(await errorOf(client.send(new CreateKeyCommand({ Policy: '{"Version":"2012-10-17"}' })))).toBe(
      'MalformedPolicyDocumentException',
    );
    const keyId = await newKey();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'root',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: 'users',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/user` },
          Action: 'kms:Decrypt',
          Resource: '*',
        },
      ],
    });
    await client.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }));
    expect((await client.send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy).toBe(policy);
  });

  it('answers NotFoundException for unknown keys and aliases', async () => {
    expect(
      await errorOf(client.send(new DescribeKeyCommand({ KeyId: '11111111-2222-3333-4444-555555555555' }))),
    ).toBe('NotFoundException');
    expect(await errorOf(client.send(new DescribeKeyCommand({ KeyId: 'alias/nope' })))).toBe(
      'NotFoundException',
    );
    expect(
      await errorOf(
        client.send(new EncryptCommand({ KeyId: 'alias/nope', Plaintext: Buffer.from('secret') })),
      ),
    ).toBe('NotFoundException');
    const err = await client.send(new DescribeKeyCommand({ KeyId: 'alias/nope' })).catch((e: Error) => e);
    expect((err as Error).message).toContain('alias/nope');
  });

  it('lists keys with paging', async () => {
    await newKey();
    await newKey();
    const first = await client.send(new ListKeysCommand({ Limit: 1 }));
    expect(first.Keys).toHaveLength(1);
    expect(first.Truncated).toBe(true);
    const rest = await client.send(new ListKeysCommand({ Marker: first.NextMarker }));
    expect(rest.Keys?.length).toBeGreaterThan(0);
    expect(rest.Keys?.[0]?.KeyArn).toMatch(/^arn:aws:kms:/);
  });

  it('creates the AWS managed alias/aws/s3 key on first use', async () => {
    const md = (await client.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata;
    expect(md?.KeyManager).toBe('AWS');
    const again = (await client.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))).KeyMetadata;
    expect(again?.KeyId).toBe(md?.KeyId);
    expect(
      (await client.send(new GetKeyRotationStatusCommand({ KeyId: md?.KeyId }))).KeyRotationEnabled,
    ).toBe(true);
    // The key policy of an AWS managed key lets account principals only read it (kms:Describe*,
    // kms:Get*, kms:List*) and use it through its service: DisableKey is refused by that policy.
    expect(await errorOf(client.send(new DisableKeyCommand({ KeyId: md?.KeyId })))).toBe(
      'AccessDeniedException',
    );
    const fromStore = await kms.describe('alias/aws/s3');
    expect(fromStore).toMatchObject({ keyId: md?.KeyId, keyManager: 'AWS', keyState: 'Enabled' });
  });
});

describe('crypto', () => {
  it('does an envelope round trip: GenerateDataKey, local AES, Decrypt without KeyId', async () => {
    const keyId = await newKey();
    const context = { bucket: 'training', purpose: 'tunevault' };
    const dk = await client.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    expect(dk.Plaintext).toHaveLength(32);
    expect(dk.KeyId).toMatch(new RegExp(`:key/${keyId}$`));

    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dk.Plaintext as Uint8Array, iv);
    const sealed = Buffer.concat([cipher.update('training record'), cipher.final()]);
    const tag = cipher.getAuthTag();

    // Context order does not matter, as in KMS.
    const out = await client.send(
      new DecryptCommand({
        CiphertextBlob: dk.CiphertextBlob,
        EncryptionContext: { purpose: 'tunevault', bucket: 'training' },
      }),
    );
    expect(out.KeyId).toBe(dk.KeyId);
    expect(Buffer.from(out.Plaintext as Uint8Array).equals(Buffer.from(dk.Plaintext as Uint8Array))).toBe(
      true,
    );
    const decipher = createDecipheriv('aes-256-gcm', out.Plaintext as Uint8Array, iv);
    decipher.setAuthTag(tag);
    expect(Buffer.concat([decipher.update(sealed), decipher.final()]).toString()).toBe('training record');
  });

  it('encrypts and decrypts, and binds the encryption context', async () => {
    const keyId = await newKey();
    const enc = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello'), EncryptionContext: { a: '1' } }),
    );
    const ok = await client.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '1' } }),
    );
    expect(Buffer.from(ok.Plaintext as Uint8Array).toString()).toBe('hello');
    expect(await errorOf(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).toBe(
      'InvalidCiphertextException',
    );
    expect(
      await errorOf(
        client.send(
          new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '2' } }),
        ),
      ),
    ).toBe('InvalidCiphertextException');
    const tampered = Buffer.from(enc.CiphertextBlob as Uint8Array);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0x01;
    expect(
      await errorOf(
        client.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { a: '1' } })),
      ),
    ).toBe('InvalidCiphertextException');
    expect(await errorOf(client.send(new DecryptCommand({ CiphertextBlob: Buffer.from('garbage') })))).toBe(
      'InvalidCiphertextException',
    );
  });

  it('never decrypts one key’s data under another key', async () => {
    const a = await newKey('a');
    const b = await newKey('b');
    const enc = await client.send(new EncryptCommand({ KeyId: a, Plaintext: Buffer.from('only for a') }));
    expect(
      await errorOf(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: b }))),
    ).toBe('IncorrectKeyException');
    // Re-pointing the blob's embedded key id at key b must not help either.
    const blob = Buffer.from(enc.CiphertextBlob as Uint8Array);
    const forged = Buffer.from(blob.toString('latin1').replace(a, b), 'latin1');
    expect(forged.equals(blob)).toBe(false);
    expect(await errorOf(client.send(new DecryptCommand({ CiphertextBlob: forged })))).toBe(
      'InvalidCiphertextException',
    );
    expect(await errorOf(client.send(new DecryptCommand({ CiphertextBlob: forged, KeyId: b })))).toBe(
      'InvalidCiphertextException',
    );
  });

  it('validates GenerateDataKey parameters', async () => {
    const keyId = await newKey();
    expect(await errorOf(client.send(new GenerateDataKeyCommand({ KeyId: keyId })))).toBe(
      'ValidationException',
    );
    expect(
      await errorOf(
        client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128', NumberOfBytes: 16 })),
      ),
    ).toBe('ValidationException');
  });

  it('works through the in-process KeyStore face too', async () => {
    const keyId = await newKey();
    const dk = await kms.generateDataKey(keyId, { object: 'a' });
    const out = await kms.decrypt(dk.ciphertextBlob, { object: 'a' });
    expect(out.plaintext.equals(dk.plaintext)).toBe(true);
    expect(out.keyArn).toBe(dk.keyArn);
    await expect(kms.decrypt(dk.ciphertextBlob, { object: 'b' })).rejects.toMatchObject({
      code: 'InvalidCiphertextException',
    });
  });
});

describe('key states', () => {
  it('DisabledException for a disabled key, usable again once enabled', async () => {
    const keyId = await newKey();
    const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    const md = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    expect(md).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(
      await errorOf(client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))),
    ).toBe('DisabledException');
    expect(await errorOf(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).toBe(
      'DisabledException',
    );
    expect(await errorOf(client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })))).toBe(
      'DisabledException',
    );
    await expect(kms.generateDataKey(keyId)).rejects.toMatchObject({ code: 'DisabledException' });
    await client.send(new EnableKeyCommand({ KeyId: keyId }));
    await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }));
  });

  it('KMSInvalidStateException while pending deletion; cancel brings it back Disabled', async () => {
    const keyId = await newKey();
    expect(
      await errorOf(client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 3 }))),
    ).toBe('ValidationException');
    const sched = await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(sched.KeyState).toBe('PendingDeletion');
    expect(sched.PendingWindowInDays).toBe(7);
    const days = ((sched.DeletionDate as Date).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const md = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    expect(md).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false });
    expect(md?.DeletionDate).toBeInstanceOf(Date);

    expect(
      await errorOf(client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))),
    ).toBe('KMSInvalidStateException');
    expect(await errorOf(client.send(new EnableKeyCommand({ KeyId: keyId })))).toBe(
      'KMSInvalidStateException',
    );
    expect(
      await errorOf(client.send(new CreateAliasCommand({ AliasName: 'alias/pending', TargetKeyId: keyId }))),
    ).toBe('KMSInvalidStateException');
    await expect(kms.generateDataKey(keyId)).rejects.toMatchObject({ code: 'KMSInvalidStateException' });

    await client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect((await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe(
      'Disabled',
    );
    expect(await errorOf(client.send(new CancelKeyDeletionCommand({ KeyId: keyId })))).toBe(
      'KMSInvalidStateException',
    );
  });

  it('rotation: enable, status, disable; a disabled key cannot change it', async () => {
    const keyId = await newKey();
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(
      false,
    );
    await client.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    const status = await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    expect(status.KeyRotationEnabled).toBe(true);
    expect(status.RotationPeriodInDays).toBe(365);
    expect(status.NextRotationDate).toBeInstanceOf(Date);

    await client.send(new DisableKeyRotationCommand({ KeyId: keyId }));
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(
      false,
    );
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    expect(await errorOf(client.send(new EnableKeyRotationCommand({ KeyId: keyId })))).toBe(
      'DisabledException',
    );
  });
});

describe('aliases', () => {
  it('creates, resolves, lists and deletes aliases', async () => {
    const a = await newKey('a');
    const b = await newKey('b');
    await client.send(new CreateAliasCommand({ AliasName: 'alias/tunevault/cmk', TargetKeyId: a }));
    const viaName = (await client.send(new DescribeKeyCommand({ KeyId: 'alias/tunevault/cmk' }))).KeyMetadata;
    expect(viaName?.KeyId).toBe(a);
    const aliasArn = `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:alias/tunevault/cmk`;
    expect((await client.send(new DescribeKeyCommand({ KeyId: aliasArn }))).KeyMetadata?.KeyId).toBe(a);

    const listed = await client.send(new ListAliasesCommand({ KeyId: a }));
    expect(listed.Aliases).toEqual([
      expect.objectContaining({ AliasName: 'alias/tunevault/cmk', AliasArn: aliasArn, TargetKeyId: a }),
    ]);

    expect(
      await errorOf(
        client.send(new CreateAliasCommand({ AliasName: 'alias/tunevault/cmk', TargetKeyId: b })),
      ),
    ).toBe('AlreadyExistsException');
    expect(
      await errorOf(client.send(new CreateAliasCommand({ AliasName: 'tunevault', TargetKeyId: b }))),
    ).toBe('ValidationException');
    expect(
      await errorOf(client.send(new CreateAliasCommand({ AliasName: 'alias/bad:name', TargetKeyId: b }))),
    ).toBe('ValidationException');
    expect(
      await errorOf(client.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: b }))),
    ).toBe('NotAuthorizedException');
    expect(
      await errorOf(
        client.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: 'alias/tunevault/cmk' })),
      ),
    ).toBe('ValidationException');

    // Encrypting through an alias works; the blob still names the key itself.
    const enc = await client.send(
      new EncryptCommand({ KeyId: 'alias/tunevault/cmk', Plaintext: Buffer.from('x') }),
    );
    expect(enc.KeyId).toMatch(new RegExp(`${a}$`));

    await client.send(new DeleteAliasCommand({ AliasName: 'alias/tunevault/cmk' }));
    expect(await errorOf(client.send(new DescribeKeyCommand({ KeyId: 'alias/tunevault/cmk' })))).toBe(
      'NotFoundException',
    );
    expect(await errorOf(client.send(new DeleteAliasCommand({ AliasName: 'alias/tunevault/cmk' })))).toBe(
      'NotFoundException',
    );
  });
});

describe('tags and grants', () => {
  it('tags, a tag key given again replacing its value', async () => {
    const keyId = await newKey();
    await client.send(
      new TagResourceCommand({
        KeyId: keyId,
        Tags: [
          { TagKey: 'a', TagValue: '1' },
          { TagKey: 'b', TagValue: '2' },
        ],
      }),
    );
    await client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'a', TagValue: '3' }] }));
    expect((await client.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([
      { TagKey: 'a', TagValue: '3' },
      { TagKey: 'b', TagValue: '2' },
    ]);
  });

  it('creates, lists, retires and revokes grants', async () => {
    const keyId = await newKey();
    const grantee = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/bedrock-builder`;
    const g1 = await client.send(
      new CreateGrantCommand({
        KeyId: keyId,
        GranteePrincipal: grantee,
        Operations: ['Decrypt', 'GenerateDataKey'],
      }),
    );
    expect(g1.GrantId).toMatch(/^[0-9a-f]{64}$/);
    expect(g1.GrantToken).toBeTruthy();
    const g2 = await client.send(
      new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: grantee, Operations: ['Encrypt'] }),
    );
    const listed = await client.send(new ListGrantsCommand({ KeyId: keyId }));
    expect(listed.Grants?.map((g) => g.GrantId).sort()).toEqual([g1.GrantId, g2.GrantId].sort());
    expect(listed.Grants?.[0]).toMatchObject({
      GranteePrincipal: grantee,
      KeyId: expect.stringContaining(keyId),
    });

    await client.send(new RetireGrantCommand({ GrantToken: g1.GrantToken }));
    await client.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: g2.GrantId }));
    expect((await client.send(new ListGrantsCommand({ KeyId: keyId }))).Grants).toEqual([]);
    expect(await errorOf(client.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: g2.GrantId })))).toBe(
      'NotFoundException',
    );
  });
});

describe('snapshot', () => {
  it('restores keys with their material so old ciphertexts still decrypt', async () => {
    const keyId = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/snap', TargetKeyId: keyId }));
    const enc = await client.send(
      new EncryptCommand({ KeyId: 'alias/snap', Plaintext: Buffer.from('persisted') }),
    );
    const state = JSON.parse(JSON.stringify(kms.snapshot()));

    const fresh = new KmsService({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
    fresh.restore(state);
    const out = await fresh.decrypt(Buffer.from(enc.CiphertextBlob as Uint8Array));
    expect(out.plaintext.toString()).toBe('persisted');
    expect((await fresh.describe('alias/snap')).keyId).toBe(keyId);
  });
});
