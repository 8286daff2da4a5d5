/**
 * S3 requires what AWS requires. DeleteObjects needs Content-MD5 or a flexible checksum
 * (API_DeleteObjects: "The Content-MD5 request header is required for all Multi-Object Delete
 * requests"; AWS answers InvalidRequest "Missing required header for this request: Content-MD5.");
 * object keys are at most 1,024 bytes of UTF-8 (User Guide, "Naming Amazon S3 objects"), longer
 * ones KeyTooLongError.
 */
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { type Harness, startHarness } from './support/embedded';
import { signedRequest } from './support/signed';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const exists = (key: string) =>
  h.c.s3.send(new HeadObjectCommand({ Bucket: h.stack.outputBucket, Key: key })).then(
    () => true,
    () => false,
  );

describe('DeleteObjects', () => {
  const body = (key: string) =>
    `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>${key}</Key></Object></Delete>`;
  const del = (key: string, headers: Record<string, string>) =>
    signedRequest(h.aws.url, {
      service: 's3',
      method: 'POST',
      path: `/${h.stack.outputBucket}`,
      query: { delete: '' },
      headers,
      body: body(key),
    });

  it('without Content-MD5 or a checksum: InvalidRequest, and nothing is deleted', async () => {
    await h.put('md5/none', 'x', h.stack.outputBucket);
    const res = await del('md5/none', {});
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>InvalidRequest</Code>');
    expect(res.body).toContain('Missing required header for this request: Content-MD5.');
    expect(await exists('md5/none')).toBe(true);
  });

  it('with a Content-MD5 that does not match: BadDigest; with the right one, or a CRC32 checksum: deleted', async () => {
    await h.put('md5/ok', 'x', h.stack.outputBucket);
    await h.put('md5/crc', 'x', h.stack.outputBucket);
    const wrong = await del('md5/ok', { 'content-md5': createHash('md5').update('other').digest('base64') });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('<Code>BadDigest</Code>');
    expect(await exists('md5/ok')).toBe(true);

    const md5 = await del('md5/ok', {
      'content-md5': createHash('md5').update(body('md5/ok')).digest('base64'),
    });
    expect(md5.status).toBe(200);
    expect(await exists('md5/ok')).toBe(false);

    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body('md5/crc')));
    const checksum = await del('md5/crc', { 'x-amz-checksum-crc32': crc.toString('base64') });
    expect(checksum.status).toBe(200);
    expect(await exists('md5/crc')).toBe(false);
  });

  it('the SDK (which sends a flexible checksum) deletes as usual', async () => {
    await h.put('md5/sdk', 'x', h.stack.outputBucket);
    const out = await h.c.s3.send(
      new DeleteObjectsCommand({ Bucket: h.stack.outputBucket, Delete: { Objects: [{ Key: 'md5/sdk' }] } }),
    );
    expect(out.Deleted?.map((d) => d.Key)).toEqual(['md5/sdk']);
  });
});

describe('keys longer than 1,024 bytes', () => {
  const bucket = () => h.stack.outputBucket;
  const refused = (promise: Promise<unknown>) =>
    expect(promise).rejects.toMatchObject({ name: 'KeyTooLongError', $metadata: { httpStatusCode: 400 } });

  it('1,024 bytes are stored; 1,025 bytes, or 513 two-byte characters, are KeyTooLongError', async () => {
    const max = `long/${'k'.repeat(1024 - 5)}`;
    await h.c.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: max, Body: 'x' }));
    expect(await exists(max)).toBe(true);

    await refused(h.c.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `${max}k`, Body: 'x' })));
    await refused(h.c.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: 'é'.repeat(513), Body: 'x' })));
    expect(await exists(`${max}k`)).toBe(false);
  });

  it('CopyObject and CreateMultipartUpload to a key that long are refused too; the error names the sizes', async () => {
    await h.put('long/source', 'x', bucket());
    const tooLong = 'x'.repeat(1025);
    await refused(
      h.c.s3.send(
        new CopyObjectCommand({ Bucket: bucket(), Key: tooLong, CopySource: `${bucket()}/long/source` }),
      ),
    );
    await refused(h.c.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket(), Key: tooLong })));
    const raw = await signedRequest(h.aws.url, {
      service: 's3',
      method: 'PUT',
      path: `/${bucket()}/${tooLong}`,
      body: 'x',
    });
    expect(raw.status).toBe(400);
    expect(raw.body).toMatch(
      /<Code>KeyTooLongError<\/Code><Message>Your key is too long<\/Message><Size>1025<\/Size><MaxSizeAllowed>1024<\/MaxSizeAllowed>/,
    );
  });
});
