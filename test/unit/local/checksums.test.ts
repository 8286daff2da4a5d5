/**
 * Streamed bodies are checksummed piece by piece: the incremental CRC32, CRC32C, CRC64NVME, SHA1
 * and SHA256 equal the one-shot ones whatever the split, empty pieces included — an empty buffer
 * from decipher.final() once reset zlib's CRC32 to 0 and stored a wrong checksum on copies.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Checksummer, checksumOf } from '../../../local/services/s3/body';

const ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

it.each(ALGORITHMS)('%s: any split, with empty pieces, equals the one-shot checksum', (algorithm) => {
  const data = randomBytes(100_003);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
  const decipher = createDecipheriv('aes-256-gcm', key, iv).setAuthTag(cipher.getAuthTag());
  const opened = decipher.update(sealed);
  const c = new Checksummer(algorithm);
  c.update(Buffer.alloc(0));
  for (let at = 0; at < opened.length; at += 7_919) c.update(opened.subarray(at, at + 7_919));
  c.update(decipher.final()); // empty, and without backing memory
  c.update(Buffer.from(''));
  expect(c.digest().toString('base64')).toBe(checksumOf(algorithm, data));
});
