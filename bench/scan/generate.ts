/**
 * Deterministic bedrock-conversation-2024 dataset for the scanner benchmark.
 *
 * Written as a stream in ~1 MiB batches so generating 200 MiB never holds the file in memory.
 * The sprinkled "secrets" are assembled at run time from fragments: no literal credential in the
 * repository trips a push-protection scanner, and every value is fake (Luhn-valid card numbers
 * with made-up digits, reserved-area-free SSNs, random base32 key ids).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { seededRandom } from '../../local/core/random';

const WORDS = (
  'the model should answer with a short summary of the quarterly report and list three risks ' +
  'customer asked about shipping times for the order and whether the warehouse in ohio has stock ' +
  'explain how the billing cycle works when a plan is upgraded in the middle of the month please ' +
  'our policy allows returns within thirty days if the item is unused and in its original packaging ' +
  'summarize the meeting notes focus on decisions owners deadlines and open questions for next week ' +
  'translate the paragraph into plain english keep numbers units and product names unchanged ' +
  'version 2.4.1 fixed the timeout at 10:30 on 2024-03-13 and raised the limit to 512 requests per minute'
).split(' ');

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function randomString(rand: () => number, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * alphabet.length)];
  return out;
}

function luhnComplete(prefix: string): string {
  // Appends the check digit that makes `prefix + digit` pass the Luhn test.
  let sum = 0;
  for (let i = 0; i < prefix.length; i++) {
    let d = prefix.charCodeAt(prefix.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return prefix + String((10 - (sum % 10)) % 10);
}

function sentence(rand: () => number, minChars: number, maxChars: number): string {
  const target = minChars + Math.floor(rand() * (maxChars - minChars));
  let out = '';
  while (out.length < target) out += (out ? ' ' : '') + pick(rand, WORDS);
  return out;
}

/** One fake finding of a rotating kind; the benchmark wants every detector to fire somewhere. */
export function fakeFinding(rand: () => number): string {
  const kind = Math.floor(rand() * 10);
  switch (kind) {
    case 0:
      return `contact ${pick(rand, ['jane', 'omar', 'li', 'sam'])}.${randomString(rand, 'abcdefghij', 5)}@acme-${randomString(rand, 'abcdefgh', 4)}.com`;
    case 1:
      return `call me on (415) 555-${String(2000 + Math.floor(rand() * 7000))}`;
    case 2:
      return `key ${['AK', 'IA'].join('')}${randomString(rand, B32, 16)}`;
    case 3:
      return `card ${luhnComplete(`45${randomString(rand, '0123456789', 13)}`).replace(/(\d{4})(?=\d)/g, '$1 ')}`;
    case 4:
      return `ssn ${String(100 + Math.floor(rand() * 500))}-${String(10 + Math.floor(rand() * 89))}-${String(1000 + Math.floor(rand() * 8999))}`;
    case 5:
      return 'iban DE89 3704 0044 0532 0130 00';
    case 6:
      return `server at 34.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${1 + Math.floor(rand() * 250)}`;
    case 7: {
      const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
      const body = Buffer.from(`{"sub":"${randomString(rand, B62, 12)}"}`).toString('base64url');
      return `bearer ${header}.${body}.${randomString(rand, B62, 43)}`;
    }
    case 8:
      return `${['gh', 'p_'].join('')}${randomString(rand, B62, 36)}`;
    default:
      return `password = "${randomString(rand, B62, 20)}"`;
  }
}

export interface GenerateOptions {
  path: string;
  bytes: number;
  seed?: number;
  /** One record in this many carries a fake finding. */
  findingEvery?: number;
}

export interface GenerateResult {
  bytes: number;
  records: number;
  recordsWithFindings: number;
}

export async function generateConversationDataset(options: GenerateOptions): Promise<GenerateResult> {
  const rand = seededRandom(options.seed ?? 42);
  const findingEvery = options.findingEvery ?? 400;
  const out = createWriteStream(options.path);
  let bytes = 0;
  let records = 0;
  let recordsWithFindings = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  while (bytes < options.bytes) {
    const turns = 2 * (1 + Math.floor(rand() * 3));
    const messages = [];
    const leakAt = rand() * findingEvery < 1 ? Math.floor(rand() * turns) : -1;
    for (let t = 0; t < turns; t++) {
      let text = sentence(rand, 80, 1400);
      if (t === leakAt) text += ` ${fakeFinding(rand)} ${sentence(rand, 10, 60)}`;
      messages.push({ role: t % 2 === 0 ? 'user' : 'assistant', content: [{ text }] });
    }
    if (leakAt >= 0) recordsWithFindings++;
    const record =
      rand() < 0.7
        ? {
            schemaVersion: 'bedrock-conversation-2024',
            system: [{ text: sentence(rand, 40, 240) }],
            messages,
          }
        : { schemaVersion: 'bedrock-conversation-2024', messages };
    const line = `${JSON.stringify(record)}\n`;
    batch.push(line);
    batchBytes += line.length;
    bytes += line.length;
    records++;
    if (batchBytes >= 1 << 20) {
      if (!out.write(batch.join(''))) await once(out, 'drain');
      batch = [];
      batchBytes = 0;
    }
  }
  out.end(batch.join(''));
  await once(out, 'finish');
  return { bytes, records, recordsWithFindings };
}
