/**
 * Grants: how Bedrock uses a customer managed model key (it grants itself the key as the caller,
 * then encrypts through the grant), and the operations that make, list and end them.
 */
import { randomBytes } from 'node:crypto';
import { type Body, optionalString, requireString, validation } from '../../core/input';
import { AwsError } from '../../core/types';
import {
  type Context,
  epochSeconds,
  type GrantRecord,
  type KeyRecord,
  type KeyRing,
  page,
  requireNotPendingDeletion,
} from './model';

const GRANT_OPERATIONS = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
]);

/** Whether a grant on KEY lets GRANTEE perform OPERATION with CONTEXT (its constraints included). */
export function grantAllows(
  ring: KeyRing,
  key: KeyRecord,
  grantee: string,
  operation: string,
  context: Context | undefined,
): boolean {
  for (const g of ring.grants.values()) {
    if (g.keyId !== key.keyId || g.granteePrincipal !== grantee || !g.operations.includes(operation))
      continue;
    const subset = g.constraints?.EncryptionContextSubset;
    const equals = g.constraints?.EncryptionContextEquals;
    const ctx = context ?? {};
    if (subset && !Object.entries(subset).every(([k, v]) => ctx[k] === v)) continue;
    if (
      equals &&
      JSON.stringify(Object.entries(equals).sort()) !== JSON.stringify(Object.entries(ctx).sort())
    )
      continue;
    return true;
  }
  return false;
}

export function createGrant(ring: KeyRing, b: Body) {
  const key = ring.resolve(requireString(b, 'KeyId'), false);
  requireNotPendingDeletion(key);
  const grantee = optionalString(b, 'GranteePrincipal') ?? optionalString(b, 'GranteeServicePrincipal');
  if (!grantee) throw validation('granteePrincipal', undefined, 'Member must not be null');
  const ops = b['Operations'];
  if (!Array.isArray(ops) || ops.length === 0)
    throw validation('operations', undefined, 'Member must not be null');
  for (const op of ops) {
    if (typeof op !== 'string' || !GRANT_OPERATIONS.has(op)) {
      throw validation(
        'operations',
        op,
        `Member must satisfy enum value set: [${[...GRANT_OPERATIONS].join(', ')}]`,
      );
    }
  }
  const name = optionalString(b, 'Name');
  const constraints = b['Constraints'] as GrantRecord['constraints'] | undefined;
  // Same name and parameters on the same key: KMS returns the existing grant (idempotent retry).
  if (name !== undefined) {
    for (const g of ring.grants.values()) {
      if (
        g.keyId === key.keyId &&
        g.name === name &&
        g.granteePrincipal === grantee &&
        JSON.stringify(g.operations) === JSON.stringify(ops) &&
        JSON.stringify(g.constraints) === JSON.stringify(constraints)
      ) {
        return { GrantId: g.grantId, GrantToken: g.grantToken };
      }
    }
  }
  const grant: GrantRecord = {
    grantId: randomBytes(32).toString('hex'),
    grantToken: randomBytes(96).toString('base64url'),
    keyId: key.keyId,
    name,
    creationDate: Date.now(),
    granteePrincipal: grantee,
    retiringPrincipal:
      optionalString(b, 'RetiringPrincipal') ?? optionalString(b, 'RetiringServicePrincipal'),
    operations: ops as string[],
    constraints,
  };
  ring.grants.set(grant.grantId, grant);
  return { GrantId: grant.grantId, GrantToken: grant.grantToken };
}

export function listGrants(ring: KeyRing, b: Body) {
  const key = ring.resolve(requireString(b, 'KeyId'), false);
  const grantId = optionalString(b, 'GrantId');
  const grantee = optionalString(b, 'GranteePrincipal');
  const all = [...ring.grants.values()]
    .filter((g) => g.keyId === key.keyId)
    .filter((g) => grantId === undefined || g.grantId === grantId)
    .filter((g) => grantee === undefined || g.granteePrincipal === grantee)
    .map((g) => {
      const entry: Record<string, unknown> = {
        KeyId: key.arn,
        GrantId: g.grantId,
        CreationDate: epochSeconds(g.creationDate),
        GranteePrincipal: g.granteePrincipal,
        IssuingAccount: `arn:aws:iam::${ring.accountId}:root`,
        Operations: g.operations,
      };
      if (g.name !== undefined) entry['Name'] = g.name;
      if (g.retiringPrincipal !== undefined) entry['RetiringPrincipal'] = g.retiringPrincipal;
      if (g.constraints !== undefined) entry['Constraints'] = g.constraints;
      return entry;
    });
  return page(all, b, 'Grants');
}

function dropGrant(ring: KeyRing, keyIdOrArn: string, grantId: string): void {
  const key = ring.resolve(keyIdOrArn, false);
  const grant = ring.grants.get(grantId);
  if (!grant || grant.keyId !== key.keyId) {
    throw new AwsError('NotFoundException', `Grant ID ${grantId} not found for key ${key.arn}`);
  }
  ring.grants.delete(grantId);
}

export function retireGrant(ring: KeyRing, b: Body) {
  const token = optionalString(b, 'GrantToken');
  if (token !== undefined) {
    const grant = [...ring.grants.values()].find((g) => g.grantToken === token);
    if (!grant) throw new AwsError('InvalidGrantTokenException', 'The grant token is not valid.');
    ring.grants.delete(grant.grantId);
    return {};
  }
  const keyId = optionalString(b, 'KeyId');
  const grantId = optionalString(b, 'GrantId');
  if (keyId === undefined || grantId === undefined) {
    throw new AwsError('ValidationException', 'Specify a GrantToken, or both KeyId and GrantId.');
  }
  dropGrant(ring, keyId, grantId);
  return {};
}

export function revokeGrant(ring: KeyRing, b: Body) {
  dropGrant(ring, requireString(b, 'KeyId'), requireString(b, 'GrantId'));
  return {};
}
