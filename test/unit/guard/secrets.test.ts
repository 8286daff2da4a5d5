import {
  awsAccessKeyId,
  awsSecretAccessKey,
  githubToken,
  googleApiKey,
  jwt,
  privateKey,
  slackToken,
  slackWebhook,
  stripeKey,
} from '../../../functions/shared/guard/detectors/secrets';
import type { Detector, Severity } from '../../../functions/shared/guard/types';
import { fake, pseudoRandom } from './fixtures';

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const join = (...parts: string[]) => parts.join('');

interface Hit {
  value: string;
  start: number;
  severity: Severity;
  example: boolean;
}

/** What a detector reports in text: each value with its start, severity and example flag. */
function found(d: Detector, text: string): Hit[] {
  return d.find(text).map((m) => ({
    value: text.slice(m.start, m.end),
    start: m.start,
    severity: m.severity,
    example: m.example,
  }));
}

/** Compares hits with the row that produced them in the message. */
function expectRow(row: string, hits: Hit[], expected: Hit[]): void {
  expect({ row, hits }).toEqual({ row, hits: expected });
}

function one(value: string, start: number, severity: Severity, example = false): Hit[] {
  return [{ value, start, severity, example }];
}

describe('awsAccessKeyId', () => {
  const AKIA = join('AK', 'IA');
  const ASIA = join('AS', 'IA');
  const body = pseudoRandom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 31);

  it('finds AKIA and ASIA ids at a token boundary, with their span', () => {
    const rows: [string, string, number][] = [
      [`${AKIA}${body}`, `${AKIA}${body}`, 0],
      [`id=${ASIA}${body} ok`, `${ASIA}${body}`, 3],
      [`-${AKIA}${body}_`, `${AKIA}${body}`, 1],
      [`"${AKIA}${body}".`, `${AKIA}${body}`, 1],
    ];
    for (const [text, value, start] of rows) {
      expectRow(text, found(awsAccessKeyId, text), one(value, start, 'high'));
    }
  });

  it('ignores ids glued to letters or digits, of the wrong length or case, or another prefix', () => {
    const rows = [
      `a${AKIA}${body}`,
      `7${AKIA}${body}`,
      `${AKIA}${body}a`,
      `${AKIA}${body}9`,
      `${AKIA}${body.slice(1)}`,
      `${AKIA}${body.slice(0, 15)}b`,
      `${join('AG', 'IA')}${body}`,
    ];
    for (const text of rows) expectRow(text, found(awsAccessKeyId, text), []);
  });

  it('marks documentation ids and low-entropy ids as examples', () => {
    const endsExample = `${AKIA}Q7ZR2M4XW${join('EXAM', 'PLE')}`;
    const middleExample = `${AKIA}Q${join('EXAM', 'PLE')}7ZR2M4XW`;
    expect(found(awsAccessKeyId, fake.awsExampleKeyId)).toEqual(one(fake.awsExampleKeyId, 0, 'low', true));
    expect(found(awsAccessKeyId, endsExample)).toEqual(one(endsExample, 0, 'low', true));
    expect(found(awsAccessKeyId, middleExample)).toEqual(one(middleExample, 0, 'high'));
    // Entropy of the 16 characters after the prefix: 2.5 bits exactly is real, below is an example.
    const atBound = `${AKIA}BBBBCCCCDDEEFFGG`;
    const below = `${AKIA}BBBBBCCCDDEEFFGG`;
    const flat = `${AKIA}${'B'.repeat(16)}`;
    expect(found(awsAccessKeyId, atBound)).toEqual(one(atBound, 0, 'high'));
    expect(found(awsAccessKeyId, below)).toEqual(one(below, 0, 'low', true));
    expect(found(awsAccessKeyId, flat)).toEqual(one(flat, 0, 'low', true));
  });
});

describe('awsSecretAccessKey', () => {
  const key = fake.awsSecretKey;
  const key2 = join(pseudoRandom(B62, 20, 41), '+', pseudoRandom(B62, 19, 42));

  it('finds the key after each naming word, with its span', () => {
    const rows: [string, number][] = [
      [`AWS key ${key}`, 8],
      [`x aws_key ${key}`, 10],
      [`my_aws ${key}`, 7],
      [`--profile-aws ${key}`, 14],
      [`SECRET ${key}`, 7],
      [`Secret ${key}`, 7],
      [`secret_value ${key}`, 13],
      [`my_secret ${key}`, 10],
      [`aws_secret_access_key=${key}`, 22],
      [`{"SecretAccessKey": "${key}"}`, 21],
    ];
    for (const [text, start] of rows) {
      expectRow(text, found(awsSecretAccessKey, text), one(key, start, 'critical'));
    }
  });

  it('ignores keys with no naming word, before it, or out of its window', () => {
    const rows = [
      `aws key ${key}`,
      `secret key ${key}`,
      `${key} is the AWS key`,
      `AWS${' '.repeat(79)}${key}`,
      `AWS ${key}=`,
      `AWS ${key}a`,
      `AWS a${key}`,
    ];
    for (const text of rows) expectRow(text, found(awsSecretAccessKey, text), []);
  });

  it('searches the 120 characters from the word: a key must lie wholly inside them', () => {
    expect(found(awsSecretAccessKey, `AWS${' '.repeat(77)}${key} end`)).toEqual(one(key, 80, 'critical'));
    expect(found(awsSecretAccessKey, `AWS${' '.repeat(78)}${key} end`)).toEqual([]);
    // A key that begins with the word and ends the text: the window is exactly 40 long.
    const glued = `AWS${key.slice(3)}`;
    expect(found(awsSecretAccessKey, glued)).toEqual(one(glued, 0, 'critical'));
    // A key whose first character stands just before the word does not follow the word.
    const before = ` x${join('AW', 'S')}${key.slice(4)} is it`;
    expect(found(awsSecretAccessKey, before)).toEqual([]);
  });

  it('never reports 40 characters of a longer run cut by the window edge (the extra character only shows the neighbour)', () => {
    // A 41-character base64 run whose first 40 end on the window's last character + 1, and one
    // that starts on the character before a later word's window: neither is a key.
    const run41 = pseudoRandom(B62, 41, 45);
    expect(found(awsSecretAccessKey, `AWS${' '.repeat(78)}${run41} end`)).toEqual([]);
    expect(found(awsSecretAccessKey, `AWS${' '.repeat(77)}${run41} end`)).toEqual([]);
    const left = `${pseudoRandom(B62, 45, 46)}AWS${key.slice(3)}`; // the word inside a 82-character run
    expect(found(awsSecretAccessKey, left)).toEqual([]);
  });

  it("finds a key that runs past the first word's window when a later word covers it (an env line with three AWS_ names)", () => {
    // Found in session 12: the later word's window started where the first one ended, so a key
    // across that edge was seen whole in neither.
    const line = `export AWS_ACCESS_KEY_ID=${fake.awsAccessKeyId} AWS_DEFAULT_REGION=eu-west-1 AWS_SECRET_ACCESS_KEY=${key}`;
    expect(found(awsSecretAccessKey, line)).toEqual(one(key, line.indexOf(key), 'critical'));
    // Every start across the first window's edge (words at 0 and 100, the first window ends at 120).
    for (let start = 107; start <= 125; start += 1) {
      const text = `AWS${' '.repeat(97)}SECRET${' '.repeat(start - 106)}${key} end`;
      expectRow(`key at ${start}`, found(awsSecretAccessKey, text), one(key, start, 'critical'));
    }
  });

  it('skips a keyword with fewer than 40 characters after it', () => {
    // The 40 characters are there from one before the word, but the window after it is 39 long.
    expect(found(awsSecretAccessKey, ` x${join('AW', 'S')}${key.slice(4, 40)}`)).toEqual([]);
  });

  it('reports each key once, in order, whatever order the words are found in', () => {
    const text = `AWS ${key} and SECRET ${key2}`;
    expect(found(awsSecretAccessKey, text)).toEqual([
      { value: key, start: 4, severity: 'critical', example: false },
      { value: key2, start: 56, severity: 'critical', example: false },
    ]);
    // "aws_" is searched after "AWS": the positions come back out of text order and are sorted.
    const late = `aws_key: ${key}${' '.repeat(150)} AWS region is set in the profile file, not in this text here`;
    expect(found(awsSecretAccessKey, late)).toEqual(one(key, 9, 'critical'));
    const twoWords = `AWS SECRET ${key}`;
    expect(found(awsSecretAccessKey, twoWords)).toEqual(one(key, 11, 'critical'));
  });

  it('requires lower case, upper case, and a digit or a base64 symbol', () => {
    const upperDigit = pseudoRandom('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 40, 43);
    const lowerDigit = pseudoRandom('abcdefghijkmnopqrstuvwxyz0123456789', 40, 44);
    const letters = pseudoRandom(LETTERS, 40, 45);
    const lettersSlash = `${pseudoRandom(LETTERS, 39, 46)}/`;
    const lettersPlus = `+${pseudoRandom(LETTERS, 39, 47)}`;
    for (const v of [upperDigit, lowerDigit, letters]) {
      expectRow(v, found(awsSecretAccessKey, `SECRET ${v}`), []);
    }
    for (const v of [lettersSlash, lettersPlus]) {
      expectRow(v, found(awsSecretAccessKey, `SECRET ${v}`), one(v, 7, 'critical'));
    }
  });

  it('marks documentation keys, EXAMPLE keys and low-entropy keys as examples', () => {
    const withExample = join(pseudoRandom(B62, 16, 48), 'EXAM', 'PLE', pseudoRandom(B62, 17, 49));
    const flat = 'aB1'.repeat(13).concat('a');
    for (const v of [fake.awsExampleSecret, withExample, flat]) {
      expectRow(v, found(awsSecretAccessKey, `AWS ${v}`), one(v, 4, 'low', true));
    }
  });
});

describe('privateKey', () => {
  const body = pseudoRandom(`${B62}+/`, 64, 51);
  const header = (kind: string) => join('-----BEGIN ', kind, 'PRIVATE KEY-----');
  const footer = (kind: string) => join('-----END ', kind, 'PRIVATE KEY-----');

  it('finds each header kind with its body and footer', () => {
    for (const kind of ['RSA ', 'EC ', 'OPENSSH ', 'ENCRYPTED ', '', 'X9 2 ']) {
      const pem = `${header(kind)}\n${body}\n${footer(kind)}`;
      expectRow(kind, found(privateKey, `key: ${pem} done`), one(pem, 5, 'critical'));
    }
    const pgp = join(
      '-----BEGIN PGP ',
      'PRIVATE KEY BLOCK-----\n',
      body,
      '\n-----END PGP PRIVATE KEY BLOCK-----',
    );
    expect(found(privateKey, pgp)).toEqual(one(pgp, 0, 'critical'));
    expect(found(privateKey, `${header('rsa ')}\n${body}`)).toEqual([]);
    expect(found(privateKey, `${header('RSA ').replace('-----B', '----B')}\n${body}`)).toEqual([]);
  });

  it('counts base64 characters between header and footer: 64 make a key', () => {
    const inChars = ['A', 'Z', 'a', 'z', '0', '9', '+', '/', '='];
    const outChars = ['@', '[', '`', '{', '*', ',', '.', ':', '<', '>', '-', '_', ' ', '\n', '~'];
    const rest = 'Q'.repeat(63);
    for (const c of inChars) {
      const pem = `${header('')}${rest}${c}${footer('')}`;
      expectRow(JSON.stringify(c), found(privateKey, pem), one(pem, 0, 'critical'));
    }
    for (const c of outChars) {
      const pem = `${header('')}${rest}${c}${footer('')}`;
      expectRow(JSON.stringify(c), found(privateKey, pem), one(pem, 0, 'low', true));
    }
  });

  it('ends the span at the footer dashes, or after END when they are missing', () => {
    const open = `${header('RSA ')}\n${body}\n${join('-----', 'END RSA PRIVATE KEY')}`;
    expect(found(privateKey, `${open} and more`)).toEqual(
      one(open.slice(0, open.length - ' RSA PRIVATE KEY'.length), 0, 'critical'),
    );
    const pem = `${header('RSA ')}\n${body}\n${footer('RSA ')}`;
    expect(found(privateKey, `${pem}\nthanks`)).toEqual(one(pem, 0, 'critical'));
  });

  it('finds two keys in one text, each with its own footer', () => {
    const small = 'Qk'.repeat(10);
    const a = `${header('RSA ')}\n${body}\n${footer('RSA ')}`;
    const b = `${header('EC ')}\n${small}\n${footer('EC ')}`;
    const text = `${a} and ${b}`;
    expect(found(privateKey, text)).toEqual([
      { value: a, start: 0, severity: 'critical', example: false },
      { value: b, start: a.length + 5, severity: 'low', example: true },
    ]);
  });

  it('without a footer, takes base64 lines split by line breaks or JSON escapes, up to a space', () => {
    const h = header('RSA ');
    const half1 = body.slice(0, 32);
    const half2 = body.slice(32);
    const rows: [string, string][] = [
      [`${h}\n${half1}\n${half2} more`, `${h}\n${half1}\n${half2}`],
      [`${h}\r\n${half1}\r\n${half2} more`, `${h}\r\n${half1}\r\n${half2}`],
      [`${h}\r${half1}\r${half2}`, `${h}\r${half1}\r${half2}`],
      [`${h}\\n${half1}\\n${half2}\\n more`, `${h}\\n${half1}\\n${half2}\\n`],
      [`${h}\\r\\n${half1}\\r\\n${half2}", x`, `${h}\\r\\n${half1}\\r\\n${half2}`],
    ];
    for (const [text, value] of rows) {
      expectRow(JSON.stringify(text), found(privateKey, text), one(value, 0, 'critical'));
    }
  });

  it('stops a footerless body at a backslash that is not a line-break escape', () => {
    const h = header('RSA ');
    for (const last of ['n', 'r', 'A']) {
      const key = `${h}\n${'A'.repeat(63)}${last}`;
      expectRow(last, found(privateKey, `${key}\\t${'B'.repeat(8)} x`), one(key, 0, 'critical'));
    }
    // Only a backslash starts an escape: a space before "n" or "r" ends the body.
    for (const word of [' next', ' rest']) {
      const key = `${h}\n${'A'.repeat(64)}`;
      expectRow(word, found(privateKey, `${key}${word}`), one(key, 0, 'critical'));
    }
  });

  it('without a footer, 63 base64 characters are not a key, 64 are', () => {
    const h = header('');
    const k63 = `${h}\n${body.slice(0, 63)}`;
    const k64 = `${h}\n${body}`;
    expect(found(privateKey, k63)).toEqual(one(k63, 0, 'low', true));
    expect(found(privateKey, `${k64} x`)).toEqual(one(k64, 0, 'critical'));
  });

  it('gives back a word glued to the header: no body', () => {
    const h = header('RSA ');
    expect(found(privateKey, `${h}and then the body`)).toEqual(one(h, 0, 'low', true));
    expect(found(privateKey, `${h}${body}QQ more`)).toEqual(one(h, 0, 'low', true));
    expect(found(privateKey, `starts with ${h} and`)).toEqual(one(h, 12, 'low', true));
    expect(found(privateKey, h)).toEqual(one(h, 0, 'low', true));
    expect(found(privateKey, `${h}\n\n end`)).toEqual(one(`${h}\n\n`, 0, 'low', true));
  });
});

describe('githubToken', () => {
  const body36 = pseudoRandom(B62, 36, 61);

  it('finds each classic prefix and the fine-grained one at a token boundary', () => {
    for (const p of ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']) {
      const token = join(p.slice(0, 2), p.slice(2), body36);
      expectRow(p, found(githubToken, `t=${token}.`), one(token, 2, 'high'));
    }
    const pat = join('github', '_pat_', pseudoRandom(B62, 30, 62), '_', pseudoRandom(B62, 51, 63));
    expect(found(githubToken, `(${pat})`)).toEqual(one(pat, 1, 'high'));
    expect(found(githubToken, `-${fake.githubToken}`)).toEqual(one(fake.githubToken, 1, 'high'));
  });

  it('ignores other prefixes, short bodies, glued tokens, and bodies running on', () => {
    const rows = [
      join('gh', 'x_', body36),
      join('gh', 'p_', body36.slice(1)),
      join('github', '_pat_', pseudoRandom(B62, 81, 64)),
      join('_gh', 'p_', body36),
      join('agh', 'p_', body36),
      join('1gh', 'p_', body36),
      join('gh', 'p_', body36, '_x'),
    ];
    for (const text of rows) expectRow(text, found(githubToken, text), []);
  });

  it('marks a body below 3 bits of entropy as an example, 3 bits exactly as real', () => {
    const real = join('gh', 'p_', 'ABCDEFGH'.repeat(5));
    const low = join('gh', 'p_', 'ABCDEFGH'.repeat(4), 'AAAA');
    expect(found(githubToken, real)).toEqual(one(real, 0, 'high'));
    expect(found(githubToken, low)).toEqual(one(low, 0, 'low', true));
  });
});

describe('slackToken', () => {
  const ids = '2048193-4520648-';

  it('finds each token kind at a boundary and spans its characters', () => {
    for (const k of ['a', 'b', 'p', 'o', 's', 'r']) {
      const token = join('xo', `x${k}-`, ids, pseudoRandom(B62, 12, 71));
      expectRow(k, found(slackToken, `=${token} x`), one(token, 1, 'high'));
    }
    expect(found(slackToken, `-${fake.slackToken}`)).toEqual(one(fake.slackToken, 1, 'high'));
  });

  it('ignores other kinds, short bodies and glued tokens', () => {
    const rows = [
      join('xo', 'xc-', ids),
      join('xo', 'xb-', '20481934-'),
      join('axo', 'xb-', ids),
      join('1xo', 'xb-', ids),
      join('xo', 'xb-', '_2048193452'),
    ];
    for (const text of rows) expectRow(text, found(slackToken, text), []);
    const ten = join('xo', 'xb-', '2048193756');
    expect(found(slackToken, ten)).toEqual(one(ten, 0, 'high'));
  });

  it('marks bodies without digits or below 3 bits of entropy as examples', () => {
    const rows: [string, Severity, boolean][] = [
      ['your-token-here', 'low', true],
      ['1111111111', 'low', true],
      ['12345671234567', 'low', true],
      ['1234567812345678', 'high', false],
    ];
    for (const [body, severity, example] of rows) {
      const token = join('xo', 'xb-', body);
      expectRow(body, found(slackToken, token), one(token, 0, severity, example));
    }
  });
});

describe('slackWebhook', () => {
  const base = join('https://hooks.', 'slack.com/');

  it('finds services, workflows and triggers URLs with their path', () => {
    for (const kind of ['services', 'workflows', 'triggers']) {
      const url = `${base}${kind}/T0123ABCD/B0456EFGH/${pseudoRandom(B62, 24, 81)}`;
      expectRow(kind, found(slackWebhook, `post ${url} now`), one(url, 5, 'high'));
    }
    const twenty = `${base}services/${pseudoRandom(B62, 20, 82)}`;
    expect(found(slackWebhook, twenty)).toEqual(one(twenty, 0, 'high'));
  });

  it('ignores other paths and short ones', () => {
    for (const text of [
      `${base}apps/${pseudoRandom(B62, 24, 83)}`,
      `${base}services/${pseudoRandom(B62, 19, 84)}`,
    ]) {
      expectRow(text, found(slackWebhook, text), []);
    }
  });

  it('judges the last path segment: below 3 bits of entropy is a placeholder', () => {
    const rows: [string, Severity, boolean][] = [
      ['X'.repeat(24), 'low', true],
      [join('ABCDEFGH'.repeat(4), 'AAAA'), 'low', true],
      ['ABCDEFGH'.repeat(3), 'high', false],
    ];
    for (const [last, severity, example] of rows) {
      const url = `${base}services/T0123ABCD/B0456EFGH/${last}`;
      expectRow(last, found(slackWebhook, url), one(url, 0, severity, example));
    }
  });
});

describe('stripeKey', () => {
  const body = pseudoRandom(B62, 24, 91);

  it('rates live secret keys critical, live restricted keys high, the rest low', () => {
    const rows: [string, string, Severity][] = [
      ['sk', 'live', 'critical'],
      ['rk', 'live', 'high'],
      ['pk', 'live', 'low'],
      ['sk', 'test', 'low'],
      ['rk', 'test', 'low'],
      ['pk', 'test', 'low'],
    ];
    for (const [kind, mode, severity] of rows) {
      const key = join(kind, `_${mode}_`, body);
      expectRow(key.slice(0, 8), found(stripeKey, `k=${key}_`), one(key, 2, severity));
    }
  });

  it('ignores glued keys, short bodies and bodies running on', () => {
    const rows = [
      join('xsk', '_live_', body),
      join('_sk', '_live_', body),
      join('9rk', '_live_', body),
      join('ak', '_live_', body),
      join('sk', '_live_', body.slice(0, 15)),
      join('sk', '_prod_', body),
    ];
    for (const text of rows) expectRow(text, found(stripeKey, text), []);
  });

  it('marks a body below 3 bits of entropy as an example, 3 bits exactly as real', () => {
    const exact = join('sk', '_live_', 'ABCDEFGH'.repeat(2));
    const low = join('sk', '_live_', 'ABCDEFG'.repeat(3));
    const flat = join('rk', '_test_', 'a'.repeat(16));
    expect(found(stripeKey, exact)).toEqual(one(exact, 0, 'critical'));
    expect(found(stripeKey, low)).toEqual(one(low, 0, 'low', true));
    expect(found(stripeKey, flat)).toEqual(one(flat, 0, 'low', true));
  });
});

describe('googleApiKey', () => {
  const AIZA = join('AI', 'za');
  const body = pseudoRandom(`${B62}_-`, 35, 101);

  it('finds a 35-character key at a boundary', () => {
    expect(found(googleApiKey, `key=${AIZA}${body}&q=1`)).toEqual(one(`${AIZA}${body}`, 4, 'high'));
    expect(found(googleApiKey, `${AIZA}${body}`)).toEqual(one(`${AIZA}${body}`, 0, 'high'));
  });

  it('ignores glued, short and long keys', () => {
    const rows = [
      `x${AIZA}${body}`,
      `-${AIZA}${body}`,
      `_${AIZA}${body}`,
      `${AIZA}${body.slice(1)}`,
      `${AIZA}${body}a`,
      `${AIZA}${body}-`,
    ];
    for (const text of rows) expectRow(text, found(googleApiKey, text), []);
  });

  it('marks a low-entropy key as an example', () => {
    const flat = `${AIZA}${'a'.repeat(35)}`;
    expect(found(googleApiKey, flat)).toEqual(one(flat, 0, 'low', true));
  });
});

describe('jwt', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const payload = b64('{"sub":"user-4711"}');
  const sig = pseudoRandom(`${B62}_-`, 43, 111);

  it('finds a token whose header names an alg, signed or not', () => {
    const signed = [b64('{"alg":"RS256"}'), payload, sig].join('.');
    const unsigned = [b64('{"alg":"none"}'), payload, ''].join('.');
    expect(found(jwt, `Bearer ${signed} x`)).toEqual(one(signed, 7, 'high'));
    expect(found(jwt, `t=${unsigned}`)).toEqual(one(unsigned, 2, 'high'));
    expect(found(jwt, fake.jwt)).toEqual(one(fake.jwt, 0, 'high'));
  });

  it('ignores headers without a string alg, non-JSON headers, short parts and glued tokens', () => {
    const rows = [
      [b64('{"alg":256}'), payload, sig].join('.'),
      [b64('{"typ":"JWT"}'), payload, sig].join('.'),
      [`eyJ${'zz'}`, payload, sig].join('.'),
      ['eyJh', payload, sig].join('.'),
      [b64('{"alg":"HS256"}'), 'e', sig].join('.'),
      `-${[b64('{"alg":"HS256"}'), payload, sig].join('.')}`,
      `a${[b64('{"alg":"HS256"}'), payload, sig].join('.')}`,
    ];
    for (const text of rows) expectRow(text, found(jwt, text), []);
  });

  it("marks jwt.io's sample signature as an example", () => {
    const sample = [
      b64('{"alg":"HS256","typ":"JWT"}'),
      payload,
      join('SflKxwRJSMeKKF2QT4fw', 'pMeJf36POk6yJV_adQssw5c'),
    ].join('.');
    expect(found(jwt, sample)).toEqual(one(sample, 0, 'low', true));
  });
});

describe('secret detector declarations', () => {
  it('declares each type, severity and a gate that passes on its prefix only', () => {
    const rows: [Detector, string, Severity, string[]][] = [
      [awsAccessKeyId, 'AWS_ACCESS_KEY_ID', 'high', [join('AK', 'IA'), join('AS', 'IA')]],
      [
        awsSecretAccessKey,
        'AWS_SECRET_ACCESS_KEY',
        'critical',
        ['AWS', 'aws_', '_aws', '-aws', 'SECRET', 'Secret'],
      ],
      [privateKey, 'PRIVATE_KEY', 'critical', ['-----BEGIN']],
      [githubToken, 'GITHUB_TOKEN', 'high', ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_']],
      [slackToken, 'SLACK_TOKEN', 'high', ['xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxs-', 'xoxr-']],
      [slackWebhook, 'SLACK_WEBHOOK', 'high', ['hooks.slack.com/']],
      [stripeKey, 'STRIPE_KEY', 'critical', ['k_live_', 'k_test_']],
      [googleApiKey, 'GOOGLE_API_KEY', 'high', [join('AI', 'za')]],
      [jwt, 'JWT', 'high', ['eyJ']],
    ];
    for (const [d, type, severity, triggers] of rows) {
      expect({ type: d.type, severity: d.severity }).toEqual({ type, severity });
      for (const t of triggers) expect({ t, open: d.gate(`a ${t} b`) }).toEqual({ t, open: true });
      expect({ type, open: d.gate('plain prose without any prefix') }).toEqual({ type, open: false });
    }
  });
});
