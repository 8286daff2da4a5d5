/** Bucket sub-resource documents (encryption, tagging, public access block, ...) and their validation. */
import { AwsError } from '../../core/types';
import { accessDenied, invalidArgument } from './errors';
import {
  emptyNotificationConfig,
  type NotificationConfig,
  notificationXml,
  parseNotificationConfig,
} from './notifications';
import { isSseAlgorithm, type SseAlgorithm } from './sse';
import type { Bucket } from './store';
import {
  child,
  childBoolean,
  childText,
  children,
  malformedXml,
  type XmlElement,
  type XmlFields,
} from './xml';

export interface Tag {
  Key: string;
  Value: string;
}

export interface EncryptionRule {
  algorithm: SseAlgorithm;
  kmsMasterKeyId?: string;
  bucketKeyEnabled: boolean;
}

/** What every bucket has had since January 2023, and what DeleteBucketEncryption goes back to. */
export const SSE_S3_DEFAULT: EncryptionRule = { algorithm: 'AES256', bucketKeyEnabled: false };

const PUBLIC_ACCESS_BLOCK_FIELDS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;
export type PublicAccessBlock = Record<(typeof PUBLIC_ACCESS_BLOCK_FIELDS)[number], boolean>;

/** New buckets since April 2023 block all public access. */
export const ALL_PUBLIC_ACCESS_BLOCKED: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

export const OBJECT_OWNERSHIPS = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] as const;

export function validateBucketName(name: string): void {
  const valid =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.endsWith('-s3alias');
  if (!valid)
    throw new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: name });
}

function parseEncryption(root: XmlElement): EncryptionRule {
  const rules = children(root, 'Rule');
  const rule = rules[0];
  if (rules.length !== 1 || !rule) throw malformedXml();
  const byDefault = child(rule, 'ApplyServerSideEncryptionByDefault');
  const algorithm = byDefault && childText(byDefault, 'SSEAlgorithm');
  if (!byDefault || algorithm === undefined || !isSseAlgorithm(algorithm)) throw malformedXml();
  const keyId = childText(byDefault, 'KMSMasterKeyID');
  if (keyId && algorithm === 'AES256') {
    throw invalidArgument(
      'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
    );
  }
  const parsed: EncryptionRule = {
    algorithm,
    bucketKeyEnabled: childBoolean(rule, 'BucketKeyEnabled') ?? false,
  };
  if (keyId) parsed.kmsMasterKeyId = keyId;
  return parsed;
}

function encryptionXml(rule: EncryptionRule): XmlFields {
  return {
    Rule: {
      ApplyServerSideEncryptionByDefault: {
        SSEAlgorithm: rule.algorithm,
        KMSMasterKeyID: rule.kmsMasterKeyId,
      },
      BucketKeyEnabled: rule.bucketKeyEnabled,
    },
  };
}

const invalidTag = (message: string) => new AwsError('InvalidTag', message, 400);

function checkTags(tags: Tag[], limit: number): Tag[] {
  if (tags.length > limit)
    throw new AwsError('BadRequest', `Object tags cannot be greater than ${limit}`, 400);
  const seen = new Set<string>();
  for (const { Key, Value } of tags) {
    if (Key.length < 1 || Key.length > 128) throw invalidTag('The TagKey you have provided is invalid');
    if (Value.length > 256) throw invalidTag('The TagValue you have provided is invalid');
    if (Key.startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(Key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(Key);
  }
  return tags;
}

/** A `<Tagging><TagSet><Tag>` body; objects take up to 10 tags, buckets 50. */
export function parseTagging(root: XmlElement, limit: number): Tag[] {
  const set = child(root, 'TagSet');
  if (!set) throw malformedXml();
  const tags = children(set, 'Tag').map((t) => {
    const Key = childText(t, 'Key');
    if (Key === undefined) throw malformedXml();
    return { Key, Value: childText(t, 'Value') ?? '' };
  });
  return checkTags(tags, limit);
}

/** The `x-amz-tagging` header: a URL query string. */
export function parseTaggingHeader(header: string): Tag[] {
  return checkTags(
    [...new URLSearchParams(header)].map(([Key, Value]) => ({ Key, Value })),
    10,
  );
}

export const taggingXml = (tags: Tag[]): XmlFields => ({ TagSet: { Tag: tags.map((t) => ({ ...t })) } });

function parsePublicAccessBlock(root: XmlElement): PublicAccessBlock {
  const block = { ...ALL_PUBLIC_ACCESS_BLOCKED };
  for (const field of PUBLIC_ACCESS_BLOCK_FIELDS) block[field] = childBoolean(root, field) ?? false;
  return block;
}

function parseVersioning(root: XmlElement): 'Enabled' | 'Suspended' | undefined {
  const status = childText(root, 'Status');
  if (status === undefined) return undefined;
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
  return status;
}

function parseOwnership(root: XmlElement): string {
  const rules = children(root, 'Rule');
  const value = rules.length === 1 && rules[0] ? childText(rules[0], 'ObjectOwnership') : undefined;
  if (!value || !(OBJECT_OWNERSHIPS as readonly string[]).includes(value)) throw malformedXml();
  return value;
}

const malformedPolicy = (message: string) => new AwsError('MalformedPolicy', message, 400);

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** A statement that lets anyone in, unconditionally — what BlockPublicPolicy refuses. */
function isPublicStatement(statement: Record<string, unknown>): boolean {
  if (statement['Effect'] !== 'Allow' || statement['Condition'] !== undefined) return false;
  const principal = statement['Principal'];
  if (principal === '*') return true;
  return isRecord(principal) && asList(principal['AWS']).includes('*');
}

/**
 * Checks a bucket policy as PutBucketPolicy does: JSON, statements with an Effect, a Principal, an
 * action and resources that name this bucket. Returns whether the policy grants public access.
 */
export function validateBucketPolicy(text: string, bucket: string): { isPublic: boolean } {
  if (!text.trimStart().startsWith('{'))
    throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'");
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    throw malformedPolicy('This policy contains invalid Json');
  }
  if (!isRecord(policy) || policy['Statement'] === undefined)
    throw malformedPolicy('Missing required field Statement');
  const statements = asList(policy['Statement']);
  if (statements.length === 0) throw malformedPolicy('Could not parse the policy: Statement is empty!');
  let isPublic = false;
  for (const statement of statements) {
    if (!isRecord(statement)) throw malformedPolicy('Statement is not a JSON object');
    const effect = statement['Effect'];
    if (effect === undefined) throw malformedPolicy('Missing required field Effect');
    if (effect !== 'Allow' && effect !== 'Deny') throw malformedPolicy(`Invalid effect: ${String(effect)}`);
    if (statement['Principal'] === undefined && statement['NotPrincipal'] === undefined) {
      throw malformedPolicy('Missing required field Principal');
    }
    if (statement['Action'] === undefined && statement['NotAction'] === undefined) {
      throw malformedPolicy('Missing required field Action');
    }
    const resources = statement['Resource'] ?? statement['NotResource'];
    if (resources === undefined) throw malformedPolicy('Missing required field Resource');
    for (const resource of asList(resources)) {
      if (typeof resource !== 'string') throw malformedPolicy('Policy has invalid resource');
      const m = /^arn:aws[a-z-]*:s3:::([^/]+)(\/.*)?$/.exec(resource);
      if (!m || !globMatches(m[1] as string, bucket)) throw malformedPolicy('Policy has invalid resource');
    }
    isPublic ||= isPublicStatement(statement);
  }
  return { isPublic };
}

export function refusePublicPolicy(): never {
  throw accessDenied(
    'User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting.',
  );
}

/** A bucket sub-resource that is read, replaced and (mostly) deleted as one XML document. */
interface BucketDocument<T> {
  /** Get, Put and (when it has one) Delete operation names. */
  operations: [string, string, string?];
  root: string;
  get(b: Bucket): T | undefined;
  set(b: Bucket, value: T | undefined): void;
  parse(xml: XmlElement): T;
  render(value: T): XmlFields;
  /** The 404 Get answers when the bucket has none; without it Get answers an empty document. */
  missing?: { code: string; message: string };
  /** What Delete leaves in place; without it Delete removes the document. */
  reset?: () => T;
  putStatus?: number;
}

const encryptionDocument: BucketDocument<EncryptionRule> = {
  operations: ['GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption'],
  root: 'ServerSideEncryptionConfiguration',
  get: (b) => b.encryption,
  set: (b, v) => {
    b.encryption = v;
  },
  parse: parseEncryption,
  render: encryptionXml,
  missing: {
    code: 'ServerSideEncryptionConfigurationNotFoundError',
    message: 'The server side encryption configuration was not found',
  },
  reset: () => ({ ...SSE_S3_DEFAULT }),
};

const taggingDocument: BucketDocument<Tag[]> = {
  operations: ['GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging'],
  root: 'Tagging',
  get: (b) => b.tags,
  set: (b, v) => {
    b.tags = v;
  },
  parse: (xml) => parseTagging(xml, 50),
  render: taggingXml,
  missing: { code: 'NoSuchTagSet', message: 'The TagSet does not exist' },
  putStatus: 204,
};

const publicAccessBlockDocument: BucketDocument<PublicAccessBlock> = {
  operations: ['GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock'],
  root: 'PublicAccessBlockConfiguration',
  get: (b) => b.publicAccessBlock,
  set: (b, v) => {
    b.publicAccessBlock = v;
  },
  parse: parsePublicAccessBlock,
  render: (v) => ({ ...v }),
  missing: {
    code: 'NoSuchPublicAccessBlockConfiguration',
    message: 'The public access block configuration was not found',
  },
};

const ownershipDocument: BucketDocument<string> = {
  operations: ['GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls'],
  root: 'OwnershipControls',
  get: (b) => b.ownership,
  set: (b, v) => {
    b.ownership = v;
  },
  parse: parseOwnership,
  render: (v) => ({ Rule: { ObjectOwnership: v } }),
  missing: {
    code: 'OwnershipControlsNotFoundError',
    message: 'The bucket ownership controls were not found',
  },
};

const versioningDocument: BucketDocument<'Enabled' | 'Suspended'> = {
  operations: ['GetBucketVersioning', 'PutBucketVersioning'],
  root: 'VersioningConfiguration',
  get: (b) => b.versioning,
  // A bucket that was ever versioned can only be suspended, never unversioned again.
  set: (b, v) => {
    if (v) b.versioning = v;
  },
  parse: (xml) => {
    const status = parseVersioning(xml);
    if (!status) throw malformedXml();
    return status;
  },
  render: (v) => ({ Status: v }),
};

const notificationDocument: BucketDocument<NotificationConfig> = {
  operations: ['GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration'],
  root: 'NotificationConfiguration',
  get: (b) => b.notification,
  set: (b, v) => {
    b.notification = v ?? emptyNotificationConfig();
  },
  parse: parseNotificationConfig,
  render: notificationXml,
};

/** A document with its value type sealed in: what the HTTP layer needs to serve Get/Put/Delete. */
export interface BucketDocumentOps {
  operations: BucketDocument<unknown>['operations'];
  root: string;
  missing?: { code: string; message: string };
  putStatus?: number;
  read(b: Bucket): XmlFields | undefined;
  write(b: Bucket, xml: XmlElement): void;
  remove(b: Bucket): void;
}

function sealed<T>(doc: BucketDocument<T>): BucketDocumentOps {
  const ops: BucketDocumentOps = {
    operations: doc.operations,
    root: doc.root,
    read: (b) => {
      const value = doc.get(b);
      return value === undefined ? undefined : doc.render(value);
    },
    write: (b, xml) => doc.set(b, doc.parse(xml)),
    remove: (b) => doc.set(b, doc.reset?.()),
  };
  if (doc.missing) ops.missing = doc.missing;
  if (doc.putStatus) ops.putStatus = doc.putStatus;
  return ops;
}

export const BUCKET_DOCUMENTS: BucketDocumentOps[] = [
  sealed(encryptionDocument),
  sealed(taggingDocument),
  sealed(publicAccessBlockDocument),
  sealed(ownershipDocument),
  sealed(versioningDocument),
  sealed(notificationDocument),
];
