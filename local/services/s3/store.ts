/**
 * Buckets, object versions and multipart uploads (their parts: uploads.ts), independent of HTTP.
 * Versions of a key are kept newest first; an unversioned or suspended bucket has at most one `null`
 * version per key, which a new write or delete replaces, as on S3.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AwsError, type KeyStore } from '../../core/types';
import type { BlobStore, ByteRange } from './blobs';
import {
  ALL_PUBLIC_ACCESS_BLOCKED,
  type EncryptionRule,
  type PublicAccessBlock,
  SSE_S3_DEFAULT,
  type Tag,
  validateBucketName,
} from './bucket-config';
import type { Checksum, ChecksumAlgorithm } from './body';
import { invalidArgument, noSuchBucket, noSuchKey, noSuchVersion, S3Error } from './errors';
import { emptyNotificationConfig, type NotificationConfig } from './notifications';
import {
  type Envelope,
  envelopeOf,
  generateKey,
  openingDecipher,
  openKey,
  type PendingKey,
  type Sse,
  sealingCipher,
} from './sse';
import { Uploads } from './uploads';

/** What a writer sets on an object besides its bytes. */
export interface ObjectAttributes {
  contentType: string;
  /** Content-Encoding, Content-Disposition, Cache-Control, Content-Language, Expires, as sent. */
  headers: Record<string, string>;
  /** x-amz-meta-* (names lower-cased, prefix kept). */
  metadata: Record<string, string>;
  tags: Tag[];
  storageClass?: string;
}

export interface ObjectVersion extends ObjectAttributes {
  key: string;
  versionId: string;
  isDeleteMarker: boolean;
  lastModified: string;
  size: number;
  /** Quoted. */
  etag: string;
  blob?: string;
  sse?: Sse;
  envelope?: Envelope;
  checksum?: Checksum;
  partsCount?: number;
}

export interface Part {
  partNumber: number;
  etag: string;
  size: number;
  blob: string;
  lastModified: string;
  checksum?: string;
}

export interface Upload {
  uploadId: string;
  attributes: ObjectAttributes;
  key: string;
  initiated: string;
  sse?: Sse;
  /** SSE-KMS data key generated at initiation, as S3 does (so the key is checked up front). */
  dataKey?: PendingKey;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: Checksum['type'];
  parts: Map<number, Part>;
}

export interface Bucket {
  name: string;
  region: string;
  creationDate: string;
  versioning?: 'Enabled' | 'Suspended';
  encryption?: EncryptionRule;
  policy?: string;
  publicAccessBlock?: PublicAccessBlock;
  ownership?: string;
  tags?: Tag[];
  notification: NotificationConfig;
  objects: Map<string, ObjectVersion[]>;
  uploads: Map<string, Upload>;
}

export interface WriteOptions {
  /** Requested SSE; the bucket default applies without it. */
  sse?: Sse;
  checksum?: Checksum;
  /** Multipart objects bring their own ETag, part count and the data key made at initiation. */
  etag?: string;
  partsCount?: number;
  dataKey?: PendingKey;
  /** A chosen version id (fixtures only: S3 always makes its own); needs versioning enabled. */
  versionId?: string;
}

export interface UploadOptions {
  sse?: Sse;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: Checksum['type'];
}

export interface StoreState {
  buckets: Array<
    Omit<Bucket, 'objects' | 'uploads'> & {
      objects: ObjectVersion[];
      uploads: Array<Omit<Upload, 'parts'> & { parts: Part[] }>;
    }
  >;
  blobs?: Record<string, string>;
}

/** The bytes of `source` within `range` (inclusive), stopping the source once past it. */
async function* slice(source: AsyncIterable<Buffer>, range: ByteRange): AsyncGenerator<Buffer> {
  let at = 0;
  for await (const chunk of source) {
    const from = Math.max(range.start - at, 0);
    const to = Math.min(range.end + 1 - at, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    at += chunk.length;
    if (at > range.end) return;
  }
}

const newVersionId = () => randomBytes(24).toString('base64url');

const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

/** A version id S3 could have issued (or `null`); anything else is a client error, not a miss. */
export function checkVersionId(versionId: string): void {
  if (versionId !== 'null' && !/^[A-Za-z0-9._-]{1,1024}$/.test(versionId)) {
    throw invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
}

export class Store {
  readonly buckets = new Map<string, Bucket>();
  /** Multipart uploads and their parts (uploads.ts). */
  readonly uploads: Uploads;

  constructor(
    readonly blobs: BlobStore,
    readonly kms: KeyStore | undefined,
  ) {
    this.uploads = new Uploads(this);
  }

  bucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw noSuchBucket(name);
    return b;
  }

  createBucket(name: string, region: string): Bucket {
    validateBucketName(name);
    if (this.buckets.has(name)) {
      throw new AwsError(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        409,
        { BucketName: name },
      );
    }
    const bucket: Bucket = {
      name,
      region,
      creationDate: new Date().toISOString(),
      encryption: { ...SSE_S3_DEFAULT },
      publicAccessBlock: { ...ALL_PUBLIC_ACCESS_BLOCKED },
      ownership: 'BucketOwnerEnforced',
      notification: emptyNotificationConfig(),
      objects: new Map(),
      uploads: new Map(),
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  async deleteBucket(name: string): Promise<void> {
    const b = this.bucket(name);
    if (b.objects.size > 0) {
      throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, {
        BucketName: name,
      });
    }
    for (const upload of b.uploads.values()) await this.uploads.dropParts(upload);
    this.buckets.delete(name);
  }

  /** The version a read names; a delete marker as latest reads as NoSuchKey, as addressed one as 405. */
  version(b: Bucket, key: string, versionId?: string | null): ObjectVersion {
    const versions = b.objects.get(key) ?? [];
    if (versionId === undefined || versionId === null) {
      const latest = versions[0];
      if (!latest) throw noSuchKey(key);
      if (latest.isDeleteMarker) {
        throw noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': latest.versionId });
      }
      return latest;
    }
    const found = versions.find((v) => v.versionId === versionId);
    if (!found) {
      checkVersionId(versionId);
      throw noSuchVersion(key, versionId);
    }
    if (found.isDeleteMarker) {
      throw new S3Error(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        { Method: 'GET', ResourceType: 'DeleteMarker' },
        { 'x-amz-delete-marker': 'true', 'x-amz-version-id': found.versionId },
      );
    }
    return found;
  }

  /** The SSE a write gets: what it asked for, else the bucket default (none on a legacy bucket). */
  effectiveSse(b: Bucket, requested: Sse | undefined): Sse | undefined {
    if (requested) return requested;
    const rule = b.encryption;
    if (!rule) return undefined;
    const sse: Sse = { algorithm: rule.algorithm };
    if (rule.kmsMasterKeyId) sse.kmsKeyId = rule.kmsMasterKeyId;
    if (rule.bucketKeyEnabled && rule.algorithm !== 'AES256') sse.bucketKeyEnabled = true;
    return sse;
  }

  /** The ARNs SSE-KMS binds a data key to (its encryption context). */
  arns(b: Bucket, key: string) {
    return { bucket: bucketArn(b.name), object: `${bucketArn(b.name)}/${key}` };
  }

  /** Stores a new version of `key` (encrypting it if its SSE asks for KMS) and makes it the latest. */
  write(
    b: Bucket,
    key: string,
    plaintext: Buffer,
    attributes: ObjectAttributes,
    options: WriteOptions = {},
  ): Promise<ObjectVersion> {
    return this.writeFrom(b, key, [plaintext], attributes, options);
  }

  /**
   * write() for bytes that arrive over time: they go to disk as they come (through AES-256-GCM
   * for SSE-KMS), hashed on the way for the ETag. `verify`, called once the last byte is
   * written, throws AWS's error for a request whose claims did not hold (a checksum, a signature):
   * then the bytes are deleted and no version is made.
   */
  async writeFrom(
    b: Bucket,
    key: string,
    data: AsyncIterable<Buffer> | Iterable<Buffer>,
    attributes: ObjectAttributes,
    options: WriteOptions & { verify?: () => { checksum?: Checksum } | undefined } = {},
  ): Promise<ObjectVersion> {
    const sse = this.effectiveSse(b, options.sse);
    let sealing: { key: Buffer; pending: PendingKey; sse: Sse } | undefined;
    let labelled = sse;
    if (sse && options.dataKey) {
      sealing = { key: await openKey(this.kms, options.dataKey), pending: options.dataKey, sse };
    } else if (sse) {
      const generated = await generateKey(this.kms, sse, this.arns(b, key));
      labelled = generated.sse;
      if (generated.key)
        sealing = { key: generated.key.plaintext, pending: generated.key.pending, sse: generated.sse };
    }
    const md5 = createHash('md5');
    let size = 0;
    const cipher = sealing ? sealingCipher(sealing.key) : undefined;
    async function* stored() {
      for await (const chunk of data) {
        md5.update(chunk);
        size += chunk.length;
        yield cipher ? cipher.update(chunk) : chunk;
      }
      if (cipher) yield cipher.final();
    }
    const blob = await this.blobs.putStream(stored());
    let verified: { checksum?: Checksum } | undefined;
    try {
      verified = options.verify?.();
    } catch (err) {
      await this.blobs.delete(blob);
      throw err;
    }
    const version: ObjectVersion = {
      ...attributes,
      key,
      versionId: b.versioning === 'Enabled' ? (options.versionId ?? newVersionId()) : 'null',
      isDeleteMarker: false,
      lastModified: new Date().toISOString(),
      size,
      etag: options.etag ?? `"${md5.digest('hex')}"`,
      blob,
    };
    if (labelled) version.sse = labelled;
    if (sealing && cipher) version.envelope = envelopeOf(sealing.pending, cipher);
    const checksum = verified?.checksum ?? options.checksum;
    if (checksum) version.checksum = checksum;
    if (options.partsCount !== undefined) version.partsCount = options.partsCount;
    await this.link(b, version);
    return version;
  }

  private async link(b: Bucket, version: ObjectVersion): Promise<void> {
    const versions = b.objects.get(version.key) ?? [];
    if (version.versionId === 'null') {
      const old = versions.findIndex((v) => v.versionId === 'null');
      if (old >= 0) await this.discard(versions.splice(old, 1)[0] as ObjectVersion);
    }
    versions.unshift(version);
    b.objects.set(version.key, versions);
  }

  private async discard(version: ObjectVersion): Promise<void> {
    if (version.blob) await this.blobs.delete(version.blob);
  }

  /** The plaintext of a version (decrypting through KMS when it was sealed). */
  async read(version: ObjectVersion): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.body(version)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * The plaintext as a stream, decrypted as it is read: a range is cut from the decrypted
   * stream (AES-GCM's tag can only be checked at the end, so a range read does not check it).
   */
  async body(version: ObjectVersion, range?: ByteRange): Promise<Readable> {
    if (!version.blob || version.size === 0) return Readable.from([]);
    if (!version.envelope) return this.blobs.body(version.blob, range);
    const decipher = openingDecipher(await openKey(this.kms, version.envelope), version.envelope);
    const source = await this.blobs.body(version.blob);
    async function* plaintext() {
      for await (const chunk of source) yield decipher.update(chunk as Buffer);
      yield decipher.final();
    }
    return Readable.from(range ? slice(plaintext(), range) : plaintext());
  }

  /**
   * DeleteObject: with a version id removes that version for good; without one removes the object
   * (unversioned) or lays a delete marker (versioning enabled or suspended).
   */
  async remove(
    b: Bucket,
    key: string,
    versionId?: string | null,
  ): Promise<{ removed?: ObjectVersion; marker?: ObjectVersion } | undefined> {
    const versions = b.objects.get(key) ?? [];
    const drop = async (i: number) => {
      const [gone] = versions.splice(i, 1);
      if (versions.length === 0) b.objects.delete(key);
      if (gone) await this.discard(gone);
      return gone;
    };
    if (versionId !== undefined && versionId !== null) {
      const i = versions.findIndex((v) => v.versionId === versionId);
      return i < 0 ? undefined : { removed: await drop(i) };
    }
    if (!b.versioning) {
      const i = versions.findIndex((v) => v.versionId === 'null');
      return i < 0 ? undefined : { removed: await drop(i) };
    }
    const marker: ObjectVersion = {
      key,
      versionId: b.versioning === 'Enabled' ? newVersionId() : 'null',
      isDeleteMarker: true,
      lastModified: new Date().toISOString(),
      size: 0,
      etag: '',
      contentType: '',
      headers: {},
      metadata: {},
      tags: [],
    };
    await this.link(b, marker);
    return { marker };
  }

  snapshot(): StoreState {
    const state: StoreState = {
      buckets: [...this.buckets.values()].map((b) => ({
        ...b,
        objects: [...b.objects.values()].flat(),
        uploads: [...b.uploads.values()].map((u) => ({ ...u, parts: [...u.parts.values()] })),
      })),
    };
    const blobs = this.blobs.snapshot();
    if (blobs) state.blobs = blobs;
    return state;
  }

  restore(state: StoreState): void {
    this.buckets.clear();
    for (const saved of state.buckets) {
      const objects = new Map<string, ObjectVersion[]>();
      for (const v of saved.objects) objects.set(v.key, [...(objects.get(v.key) ?? []), v]);
      const uploads = new Map(
        saved.uploads.map((u) => [
          u.uploadId,
          { ...u, parts: new Map(u.parts.map((p) => [p.partNumber, p])) },
        ]),
      );
      this.buckets.set(saved.name, { ...saved, objects, uploads });
    }
    this.blobs.restore(state.blobs);
  }
}
