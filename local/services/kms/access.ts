/**
 * Which IAM questions a KMS request asks. Every KMS operation authorizes as `kms:<Operation>`
 * (CreateAlias/DeleteAlias on the alias and the key), the key policy is the resource policy and
 * must allow (KMS developer guide, "Key policies": no IAM policy gives access unless the key
 * policy allows it, directly or through the account root statement), and the condition keys are the ones KMS sets: kms:CallerAccount,
 * kms:ViaService (when S3 or Bedrock use the key for the caller), kms:RequestAlias,
 * kms:ResourceAliases, aws:ResourceTag/*, kms:KeySpec/KeyUsage/KeyOrigin, kms:EncryptionContext:*,
 * and the grant keys on CreateGrant.
 */
import { optionalString as str } from '../../core/input';
import { requestTagContext } from '../../iam/request-tags';
import type { AccessRequest } from '../../iam/types';
import { ALIAS_NAME } from './aliases';

export interface KeyFacts {
  arn: string;
  policy: string;
  tags: { TagKey: string; TagValue: string }[];
  /** Alias names (`alias/x`) that point at the key. */
  aliases: string[];
  keySpec: string;
  keyUsage: string;
}

export interface KmsLookups {
  accountId: string;
  region: string;
  /** undefined when nothing answers to IDENTIFIER (the operation then answers NotFoundException itself). */
  key(identifier: string): KeyFacts | undefined;
  keyOfCiphertext(blob: Buffer): KeyFacts | undefined;
  aliasArn(name: string): string;
  /** The policy KMS gives a key created without one. */
  defaultPolicy: string;
}

type Body = Record<string, unknown>;
type Ctx = Record<string, string | string[]>;

/** The condition keys every request on KEY carries. */
function keyContext(key: KeyFacts, accountId: string, identifier?: string): Ctx {
  const ctx: Ctx = {
    'kms:CallerAccount': accountId,
    'kms:KeySpec': key.keySpec,
    'kms:KeyUsage': key.keyUsage,
    'kms:KeyOrigin': 'AWS_KMS',
    'kms:MultiRegion': 'false',
  };
  if (key.aliases.length > 0) ctx['kms:ResourceAliases'] = key.aliases;
  for (const t of key.tags) ctx[`aws:ResourceTag/${t.TagKey}`] = t.TagValue;
  const alias = identifier?.replace(/^arn:[^:]+:kms:[^:]*:[^:]*:/, '');
  if (alias?.startsWith('alias/')) ctx['kms:RequestAlias'] = alias;
  return ctx;
}

export function encryptionContext(value: unknown): Ctx {
  if (!value || typeof value !== 'object') return {};
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'string');
  const ctx: Ctx = Object.fromEntries(entries.map(([k, v]) => [`kms:EncryptionContext:${k}`, String(v)]));
  if (entries.length > 0) ctx['kms:EncryptionContextKeys'] = entries.map(([k]) => k);
  return ctx;
}

function tagsOf(value: unknown): { TagKey: string; TagValue: string }[] {
  return Array.isArray(value)
    ? value.filter(
        (t): t is { TagKey: string; TagValue: string } =>
          typeof t === 'object' && t !== null && typeof (t as Body).TagKey === 'string',
      )
    : [];
}

const requestTags = (tags: { TagKey: string; TagValue: string }[]): Ctx =>
  requestTagContext(tags.map((t) => ({ key: t.TagKey, value: t.TagValue })));

/** One question on KEY, with its key policy as the resource policy. */
export function onKey(
  action: string,
  key: KeyFacts,
  lookups: Pick<KmsLookups, 'accountId'>,
  extra: Ctx = {},
  identifier?: string,
): AccessRequest {
  return {
    action,
    resource: key.arn,
    context: { ...keyContext(key, lookups.accountId, identifier), ...extra },
    resourcePolicy: key.policy,
    resourcePolicyRequired: true,
  };
}

/** The questions a KMS API request asks (an empty list when the key does not exist: NotFound follows). */
export function kmsAccessRequests(operation: string, body: Body, lookups: KmsLookups): AccessRequest[] {
  const action = `kms:${operation}`;
  switch (operation) {
    case 'CreateKey': {
      const tags = tagsOf(body.Tags);
      const ctx: Ctx = {
        'kms:CallerAccount': lookups.accountId,
        'kms:KeySpec': str(body, 'KeySpec') ?? str(body, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT',
        'kms:KeyUsage': str(body, 'KeyUsage') ?? 'ENCRYPT_DECRYPT',
        'kms:KeyOrigin': str(body, 'Origin') ?? 'AWS_KMS',
        'kms:MultiRegion': String(body.MultiRegion === true),
        'kms:BypassPolicyLockoutSafetyCheck': String(body.BypassPolicyLockoutSafetyCheck === true),
        ...requestTags(tags),
      };
      const out: AccessRequest[] = [{ action, resource: '*', context: ctx }];
      // "To add tags when creating a KMS key, the caller must have kms:TagResource permission in an
      // IAM policy. At a minimum, the permission must cover all KMS keys in the account and Region."
      // (KMS developer guide, "Managing KMS key tags with API operations"). Asked on the key to be
      // (any id: a policy covering `key/*` covers it) under the policy it will have.
      if (tags.length > 0)
        out.push({
          action: 'kms:TagResource',
          resource: `arn:aws:kms:${lookups.region}:${lookups.accountId}:key/00000000-0000-0000-0000-000000000000`,
          context: { 'kms:CallerAccount': lookups.accountId, ...requestTags(tags) },
          resourcePolicy: str(body, 'Policy') ?? lookups.defaultPolicy,
          resourcePolicyRequired: true,
        });
      return out;
    }
    case 'ListKeys':
    case 'ListAliases':
      return [{ action, resource: '*', context: { 'kms:CallerAccount': lookups.accountId } }];
    case 'CreateAlias':
    case 'DeleteAlias': {
      const name = str(body, 'AliasName') ?? '';
      // A malformed alias name is a ValidationException from the operation itself, before any access.
      // The reserved alias/aws/ prefix: the operation answers NotAuthorizedException itself.
      if (!ALIAS_NAME.test(name) || name.startsWith('alias/aws/')) return [];
      const aliasQuestion: AccessRequest = {
        action,
        resource: lookups.aliasArn(name),
        context: { 'kms:CallerAccount': lookups.accountId },
      };
      const target = operation === 'CreateAlias' ? str(body, 'TargetKeyId') : name;
      const out: AccessRequest[] = [aliasQuestion];
      const key = target ? lookups.key(target) : undefined;
      if (key) out.push(onKey(action, key, lookups));
      return out;
    }
    case 'Decrypt': {
      const blob =
        typeof body.CiphertextBlob === 'string' ? Buffer.from(body.CiphertextBlob, 'base64') : undefined;
      const key = blob ? lookups.keyOfCiphertext(blob) : undefined;
      return key ? [onKey(action, key, lookups, encryptionContext(body.EncryptionContext))] : [];
    }
    case 'CreateGrant': {
      const id = str(body, 'KeyId');
      const key = id ? lookups.key(id) : undefined;
      if (!key) return [];
      const ops = Array.isArray(body.Operations) ? body.Operations.filter((o) => typeof o === 'string') : [];
      const grant: Ctx = { 'kms:GrantOperations': ops as string[] };
      const grantee = str(body, 'GranteePrincipal');
      if (grantee) grant['kms:GranteePrincipal'] = grantee;
      const retiring = str(body, 'RetiringPrincipal');
      if (retiring) grant['kms:RetiringPrincipal'] = retiring;
      return [onKey(action, key, lookups, grant, id)];
    }
    case 'TagResource': {
      const id = str(body, 'KeyId');
      const key = id ? lookups.key(id) : undefined;
      return key ? [onKey(action, key, lookups, requestTags(tagsOf(body.Tags)), id)] : [];
    }
    default: {
      const id = str(body, 'KeyId');
      if (!id) return [];
      const key = lookups.key(id);
      if (!key) return [];
      const ctx = encryptionContext(body.EncryptionContext);
      return [onKey(action, key, lookups, ctx, id)];
    }
  }
}
