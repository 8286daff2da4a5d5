/**
 * Multipart uploads in the store, independent of HTTP: an upload's parts go to their own blobs
 * (checked against the upload's SSE-KMS data key as they arrive), and completion joins them into
 * one object version with S3's multipart ETag and checksums.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AwsError } from '../../core/types';
import { type Checksum, Checksummer, checksumBytes } from './body';
import { noSuchUpload } from './errors';
import { generateKey, openKey, usesKms } from './sse';
import type {
  Bucket,
  ObjectAttributes,
  ObjectVersion,
  Part,
  Store,
  Upload,
  UploadOptions,
  WriteOptions,
} from './store';
import { malformedXml } from './xml';

const MIN_PART_SIZE = 5 * 1024 * 1024;

export class Uploads {
  constructor(private readonly store: Store) {}

  async create(
    b: Bucket,
    key: string,
    attributes: ObjectAttributes,
    options: UploadOptions,
  ): Promise<Upload> {
    const upload: Upload = {
      attributes,
      uploadId: randomBytes(48).toString('base64url'),
      key,
      initiated: new Date().toISOString(),
      parts: new Map(),
    };
    const sse = this.store.effectiveSse(b, options.sse);
    if (sse && usesKms(sse)) {
      const generated = await generateKey(this.store.kms, sse, this.store.arns(b, key));
      upload.sse = generated.sse;
      if (generated.key) upload.dataKey = generated.key.pending;
    } else if (sse) {
      upload.sse = sse;
    }
    if (options.checksumAlgorithm) {
      upload.checksumAlgorithm = options.checksumAlgorithm;
      upload.checksumType =
        options.checksumType ?? (options.checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
    }
    b.uploads.set(upload.uploadId, upload);
    return upload;
  }

  get(b: Bucket, uploadId: string | null, key: string): Upload {
    const upload = uploadId === null ? undefined : b.uploads.get(uploadId);
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId ?? '');
    return upload;
  }

  async putPart(upload: Upload, partNumber: number, data: Buffer, checksum?: string): Promise<Part> {
    return this.putPartFrom(upload, partNumber, [data], () => (checksum ? { checksum } : {}));
  }

  /** putPart() for bytes that arrive over time; `verify` as in Store.writeFrom(). */
  async putPartFrom(
    upload: Upload,
    partNumber: number,
    data: AsyncIterable<Buffer> | Iterable<Buffer>,
    verify: () => { checksum?: string },
  ): Promise<Part> {
    const blobs = this.store.blobs;
    // S3 decrypts the upload's data key for every part, so a key disabled mid-upload fails here.
    if (upload.dataKey) await openKey(this.store.kms, upload.dataKey);
    const md5 = createHash('md5');
    let size = 0;
    async function* counted() {
      for await (const chunk of data) {
        md5.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }
    const blob = await blobs.putStream(counted());
    let checksum: string | undefined;
    try {
      checksum = verify().checksum;
    } catch (err) {
      await blobs.delete(blob);
      throw err;
    }
    const part: Part = {
      partNumber,
      etag: `"${md5.digest('hex')}"`,
      size,
      blob,
      lastModified: new Date().toISOString(),
    };
    if (checksum) part.checksum = checksum;
    const previous = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (previous) await blobs.delete(previous.blob);
    return part;
  }

  /** Joins the listed parts into the object; the ETag is the MD5 of the part MD5s, then `-N`. */
  async complete(
    b: Bucket,
    upload: Upload,
    listed: Array<{ partNumber: number; etag: string; checksum?: string }>,
  ): Promise<ObjectVersion> {
    if (listed.length === 0) throw malformedXml();
    const parts = listed.map((l, i) => {
      const part = upload.parts.get(l.partNumber);
      if (i > 0 && l.partNumber <= (listed[i - 1]?.partNumber ?? 0)) {
        throw new AwsError(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
          400,
          {
            UploadId: upload.uploadId,
          },
        );
      }
      const etagMatches = part && part.etag.replace(/"/g, '') === l.etag.replace(/"/g, '');
      const checksumMatches = !l.checksum || !part?.checksum || l.checksum === part.checksum;
      if (!part || !etagMatches || !checksumMatches) {
        throw new AwsError(
          'InvalidPart',
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          400,
          { UploadId: upload.uploadId, PartNumber: String(l.partNumber), ETag: l.etag },
        );
      }
      return part;
    });
    parts.slice(0, -1).forEach((part) => {
      if (part.size < MIN_PART_SIZE) {
        throw new AwsError(
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          400,
          {
            ProposedSize: String(part.size),
            MinSizeAllowed: String(MIN_PART_SIZE),
            PartNumber: String(part.partNumber),
            ETag: part.etag,
          },
        );
      }
    });
    const digests = Buffer.concat(parts.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')));
    const options: WriteOptions = {
      etag: `"${createHash('md5').update(digests).digest('hex')}-${parts.length}"`,
      partsCount: parts.length,
    };
    if (upload.sse) options.sse = upload.sse;
    if (upload.dataKey) options.dataKey = upload.dataKey;
    // The parts are joined as a stream; a full-object checksum is computed on the way.
    const full =
      upload.checksumAlgorithm && upload.checksumType === 'FULL_OBJECT'
        ? new Checksummer(upload.checksumAlgorithm)
        : undefined;
    const blobs = this.store.blobs;
    async function* joined() {
      for (const part of parts)
        for await (const chunk of await blobs.body(part.blob)) {
          full?.update(chunk as Buffer);
          yield chunk as Buffer;
        }
    }
    const version = await this.store.writeFrom(b, upload.key, joined(), upload.attributes, {
      ...options,
      verify: () => {
        const checksum = uploadChecksum(upload, parts, full);
        return checksum ? { checksum } : {};
      },
    });
    b.uploads.delete(upload.uploadId);
    await this.dropParts(upload);
    return version;
  }

  async abort(b: Bucket, upload: Upload): Promise<void> {
    b.uploads.delete(upload.uploadId);
    await this.dropParts(upload);
  }

  async dropParts(upload: Upload): Promise<void> {
    for (const part of upload.parts.values()) await this.store.blobs.delete(part.blob);
  }
}

/** A full-object CRC is of the joined bytes; a composite one hashes the part checksums, then `-N`. */
function uploadChecksum(upload: Upload, parts: Part[], full: Checksummer | undefined): Checksum | undefined {
  const algorithm = upload.checksumAlgorithm;
  if (!algorithm) return undefined;
  if (upload.checksumType === 'FULL_OBJECT' && full)
    return { algorithm, value: full.digest().toString('base64'), type: 'FULL_OBJECT' };
  if (parts.some((p) => !p.checksum)) return undefined;
  const joined = Buffer.concat(parts.map((p) => Buffer.from(p.checksum ?? '', 'base64')));
  return {
    algorithm,
    value: `${checksumBytes(algorithm, joined).toString('base64')}-${parts.length}`,
    type: 'COMPOSITE',
  };
}
