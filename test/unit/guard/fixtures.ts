/**
 * Fake secrets and PII for the guard's tests. Credential-shaped values are assembled from
 * fragments at run time so the repository never contains a literal that secret scanners (or
 * GitHub push protection) would flag; none of them is, or ever was, a real credential.
 */
import { Readable } from 'node:stream';
import { limitsFor } from '../../../functions/shared/guard/limits';
import type { RecordScanConfig } from '../../../functions/shared/guard/records';

const join = (...parts: string[]) => parts.join('');

/** Deterministic filler drawn from an alphabet (mulberry32), high-entropy but reproducible. */
export function pseudoRandom(alphabet: string, length: number, seed = 7): string {
  let a = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out += alphabet[((t ^ (t >>> 14)) >>> 0) % alphabet.length];
  }
  return out;
}

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export const fake = {
  awsAccessKeyId: join('AK', 'IA', pseudoRandom(B32, 16, 1)),
  awsExampleKeyId: join('AKIA', 'IOSFODNN7', 'EXAMPLE'),
  awsSecretKey: join(pseudoRandom(B62, 18, 2), '/', pseudoRandom(B62, 12, 3), '+', pseudoRandom(B62, 8, 4)),
  awsExampleSecret: join('wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYEXAMPLEKEY'),
  privateKey: join(
    '-----BEGIN RSA ',
    'PRIVATE KEY-----\n',
    pseudoRandom(`${B62}+/`, 64, 5),
    '\n',
    pseudoRandom(`${B62}+/`, 64, 6),
    '\n-----END RSA ',
    'PRIVATE KEY-----',
  ),
  githubToken: join('gh', 'p_', pseudoRandom(B62, 36, 8)),
  githubFineGrained: join('github', '_pat_', pseudoRandom(B62, 22, 9), '_', pseudoRandom(B62, 59, 10)),
  slackToken: join(
    'xo',
    'xb-',
    '2048193',
    '4520',
    '-',
    '6481',
    '9372',
    '2846',
    '-',
    pseudoRandom(B62, 24, 11),
  ),
  slackWebhook: join(
    'https://hooks.',
    'slack.com/services/T',
    pseudoRandom('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 8, 12),
    '/B',
    pseudoRandom('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 10, 13),
    '/',
    pseudoRandom(B62, 24, 14),
  ),
  stripeLive: join('sk', '_live_', pseudoRandom(B62, 24, 15)),
  stripeRestricted: join('rk', '_live_', pseudoRandom(B62, 24, 16)),
  stripePublishable: join('pk', '_live_', pseudoRandom(B62, 24, 17)),
  googleApiKey: join('AI', 'za', pseudoRandom(`${B62}_-`, 35, 18)),
  jwt: [
    Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
    Buffer.from('{"sub":"user-4711","role":"admin"}').toString('base64url'),
    pseudoRandom(`${B62}_-`, 43, 19),
  ].join('.'),
  password: join('Xq7', '!vR2', 'mK9p', 'Lw'),
  email: 'jane.doe@acme-payroll.com',
  exampleEmail: 'someone@example.com',
  phone: '(415) 867-5309',
  fictionalPhone: '(202) 555-0143',
  card: '4556 7375 8689 9855',
  testCard: '4242 4242 4242 4242',
  ssn: '219-38-4417',
  exampleSsn: '123-45-6789',
  iban: 'GB33 BUKB 2020 1555 5555 55',
  exampleIban: 'DE89 3704 0044 0532 0130 00',
  ipv4: '34.201.17.9',
  ipv6: '2600:1f18:24e6:b900:8d2a:51f3:c4e0:9a17',
};

/** A stream of the given text in chunks of `size` bytes (1 exercises every boundary). */
export function chunked(text: string | Buffer, size: number): Readable {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

export function conversation(userText: string, answer = 'Understood.', system?: string): string {
  return JSON.stringify({
    schemaVersion: 'bedrock-conversation-2024',
    ...(system === undefined ? {} : { system: [{ text: system }] }),
    messages: [
      { role: 'user', content: [{ text: userText }] },
      { role: 'assistant', content: [{ text: answer }] },
    ],
  });
}

/** `count` valid conversation lines, `\n`-terminated. */
export function cleanConversations(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++)
    out += `${conversation(`Question number ${i + 1} about the return policy`)}\n`;
  return out;
}

/** The record checks' configuration the worker and pool tests share: the conversation format, blocking at high, redacting. */
export const RECORD_SCAN_CONFIG: RecordScanConfig = {
  family: 'bedrock-conversation-2024',
  limits: limitsFor('bedrock-conversation-2024'),
  thresholdRank: 2,
  allowValues: [],
  allowPatterns: [],
  maxFindings: 100,
  maxProblems: 100,
  redact: true,
};
