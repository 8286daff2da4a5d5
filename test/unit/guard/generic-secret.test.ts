import { genericSecret } from '../../../functions/shared/guard/detectors/generic-secret';
import { NONE } from '../../../functions/shared/guard/detectors/match';
import { fake, pseudoRandom } from './fixtures';

const S = fake.password;
/** A longer credential-shaped value: still one after its first seven characters are dropped. */
const LONG = `${fake.password}Ab1Cd2`;
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The values the generic detector reports in text, in order. */
function values(text: string): string[] {
  return genericSecret.find(text).map((m) => text.slice(m.start, m.end));
}

function spans(text: string): [number, number][] {
  return genericSecret.find(text).map((m) => [m.start, m.end]);
}

const KEYWORDS = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'api-key',
  'access_key',
  'accesskey',
  'private_key',
  'privatekey',
  'credential',
];

describe('genericSecret', () => {
  it('declares its type and severity', () => {
    expect(genericSecret.type).toBe('GENERIC_SECRET');
    expect(genericSecret.severity).toBe('high');
  });

  it('reports a keyword assignment as one high, non-example match over the value', () => {
    const text = `db_password = "${S}"`;
    expect(genericSecret.find(text)).toEqual([
      { start: 15, end: 15 + S.length, severity: 'high', example: false },
    ]);
    expect(spans(`token=${S}`)).toEqual([[6, 6 + S.length]]);
  });

  it('finds each secret-naming keyword, in lower and upper case', () => {
    for (const keyword of KEYWORDS) {
      for (const name of [keyword, keyword.toUpperCase(), `my_${keyword}`]) {
        const text = `${name} = ${S}`;
        expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
      }
    }
  });

  it('reads the name through letters, digits, underscores, hyphens and dots', () => {
    const names = [
      'password_db',
      'password-db',
      'password.db',
      'token0a',
      'token9a',
      'token_fizz',
      'TOKEN_Z',
      'secret_data',
      'PASSWORD',
      'pwd',
      'x.y-z_api_key',
    ];
    for (const name of names) {
      for (const text of [`${name} = ${S}`, `set ${name}=${S}`])
        expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
    }
  });

  it('ignores names without a keyword, names ending in a non-letter, and keywords outside the name', () => {
    const texts = [
      `username = ${LONG}`,
      `key = ${LONG}`,
      `id = ${LONG}`,
      `ab: ${LONG}`,
      `password for user = ${LONG}`,
      `the token of admin: ${LONG}`,
      `password1 = ${LONG}`,
      `token2 = ${LONG}`,
      `password_ = ${LONG}`,
      `password- = ${LONG}`,
      `password! = ${LONG}`,
      `password~db = ${LONG}`,
      `password^db = ${LONG}`,
      `password@db = ${LONG}`,
      `= ${LONG}`,
    ];
    for (const text of texts) expect({ row: text, got: values(text) }).toEqual({ row: text, got: [] });
  });

  it('reads at most the last 40 characters of the name', () => {
    const name40 = `password${'a'.repeat(32)}`;
    const name41 = `password${'a'.repeat(33)}`;
    expect(values(`set ${name40} = ${S}`)).toEqual([S]);
    expect(values(`${name40} = ${S}`)).toEqual([S]);
    expect(values(`set ${name41} = ${S}`)).toEqual([]);
    expect(values(`${name41} = ${S}`)).toEqual([]);
  });

  it('allows spaces and one quote between the name and the operator', () => {
    const texts = [
      `password = ${S}`,
      `password   = ${S}`,
      `token=${S}`,
      `token:${S}`,
      `"token" = ${S}`,
      `'token': ${S}`,
      `{"api_key": "${S}"}`,
      `{'api_key': '${S}'}`,
    ];
    for (const text of texts) expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
  });

  it('reads the value past the operator, up to three spaces and one quote', () => {
    const found = [
      `token =   ${S}`,
      `token = '${S}'`,
      `token = "${S}"`,
      `token => ${S}`,
      `token=>${S}`,
      `token := ${S}`,
      `token:=${S}`,
      `token : ${S}`,
    ];
    for (const text of found) expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
    expect(values(`token =    ${S}`)).toEqual([]);
    expect(values(`token = ''${S}`)).toEqual([]);
  });

  it('skips comparison operators', () => {
    const texts = [
      `password == ${S}`,
      `password==${S}`,
      `password != ${S}`,
      `status == Bearer ${S}`,
      `status != Bearer ${S}`,
      'password == other_password',
    ];
    for (const text of texts) expect({ row: text, got: values(text) }).toEqual({ row: text, got: [] });
  });

  it('finds a bearer token after an operator, whatever the name and case', () => {
    const texts = [
      `Authorization: Bearer ${S}`,
      `authorization: BEARER ${S}`,
      `Authorization:   bearer    ${S}`,
      `header= Bearer ${S}`,
    ];
    for (const text of texts) expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
    const text = `Authorization: Bearer ${S}`;
    expect(spans(text)).toEqual([[text.length - S.length, text.length]]);
  });

  it('does not look for a bearer token without an operator before it', () => {
    const texts = [`# Bearer ${S}`, `use bearer ${S}`, `a Bearer ${S}`, `note: Bearer${S}`, `note: ${LONG}`];
    for (const text of texts) expect({ row: text, got: values(text) }).toEqual({ row: text, got: [] });
  });

  it('ends the value at whitespace, quotes, backticks, commas, semicolons and backslashes', () => {
    for (const stop of [' ', '\t', '\n', '\u0001', '"', "'", '`', ',', ';', '\\']) {
      const text = `token=${S}${stop}Zz9Yy8Xx7`;
      expect({ row: stop, got: values(text) }).toEqual({ row: stop, got: [S] });
    }
    const kept = `${S}#$@~|^`;
    expect(values(`token=${kept}`)).toEqual([kept]);
  });

  it('stops the value at the next query-string parameter only', () => {
    expect(values(`token=${S}&user=admin`)).toEqual([S]);
    expect(values(`token=${S}&u=1`)).toEqual([S]);
    const name40 = pseudoRandom(B62, 40, 24);
    const name41 = pseudoRandom(B62, 41, 25);
    expect(values(`token=${S}&${name40}=1`)).toEqual([S]);
    expect(values(`token=${S}&${name41}=1`)).toEqual([`${S}&${name41}=1`]);
    expect(values('token=Ab&Cd1Ef2Gh3')).toEqual(['Ab&Cd1Ef2Gh3']);
    expect(values(`token=${S}&&next=1`)).toEqual([`${S}&`]);
    expect(values(`token=${S}&-x=1`)).toEqual([`${S}&-x=1`]);
  });

  it('reads at most 200 characters of a value', () => {
    const long = pseudoRandom(B62, 210, 21);
    expect(spans(`token=${long}`)).toEqual([[6, 206]]);
    const exact = pseudoRandom(B62, 200, 22);
    expect(spans(`token=${exact}`)).toEqual([[6, 206]]);
    // The 200th character is a closer the value did not open, the 201st its opener.
    const r199 = pseudoRandom(B62, 199, 23);
    expect(spans(`token=${r199})(tail`)).toEqual([[6, 205]]);
  });

  it('drops sentence punctuation and unbalanced closers after the value', () => {
    for (const after of ['.', '!', '?', ':', '.).', '!?']) {
      const text = `token=${S}${after} next`;
      expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
      expect({ row: after, got: values(`token=${S}${after}`) }).toEqual({ row: after, got: [S] });
    }
    for (const [open, close] of [
      ['(', ')'],
      ['[', ']'],
      ['{', '}'],
      ['<', '>'],
    ]) {
      const text = `${open}token=${S}${close}`;
      expect({ row: text, got: values(text) }).toEqual({ row: text, got: [S] });
      const balanced = `Ab${open}1Cd2Ef${close}`;
      expect({ row: balanced, got: values(`token=${balanced}`) }).toEqual({ row: balanced, got: [balanced] });
      expect({ row: balanced, got: values(`token=${balanced}.`) }).toEqual({
        row: balanced,
        got: [balanced],
      });
    }
  });

  it('decides by length, character classes and entropy', () => {
    const secrets = [
      'Ab1Cd2Ef',
      'ab!cd#ef$gh',
      'ab1cd2ef3g',
      'AbCdEfGhIj',
      'AB1CD2EF3G',
      '12!34@56#7',
      'Ab1Cd2Efx',
    ];
    for (const value of secrets)
      expect({ row: value, got: values(`token = ${value}`) }).toEqual({ row: value, got: [value] });
    const notSecrets = [
      'Ab1Cd2E',
      'abcdefghijkl',
      'ABCDEFGHIJKL',
      '0123456789',
      '~@#$%^*+-',
      'aaaa1111',
      'Ab1Cd2EE',
    ];
    for (const value of notSecrets)
      expect({ row: value, got: values(`token = ${value}`) }).toEqual({ row: value, got: [] });
    expect(values('token: authentication')).toEqual([]);
  });

  it('rejects placeholders, templates and URLs', () => {
    const placeholders = [
      '<Ab1Cd2Ef>',
      `${'$'}{Ab1Cd2Ef}`,
      '{{Ab1Cd2Ef}}',
      '%Ab1Cd2Ef%',
      'Xq7changeme',
      'Ab1EXAMPLE',
      'REDACTED_1',
      'Placeholder9',
      'your_token_1',
      'YOUR-Ab1Cd2',
      'https://Xq7vR2mK9pLw.io/a',
    ];
    for (const value of placeholders)
      expect({ row: value, got: values(`token = ${value}`) }).toEqual({ row: value, got: [] });
    for (const value of ['yourAb1Cd2Ef', 'Ab1<Cd2Ef>', 'x0Ab1Cd2Ef', 'Ab1Cd2Ef%', 'Ab1Cd2:/Ef'])
      expect({ row: value, got: values(`token = ${value}`) }).toEqual({ row: value, got: [value] });
  });

  it('reads each value once and reports matches in text order', () => {
    expect(values(`token: ${S} and password = Ab1Cd2Ef3 then secret: Zy9Xw8Vu7`)).toEqual([
      S,
      'Ab1Cd2Ef3',
      'Zy9Xw8Vu7',
    ]);
    expect(values('token=Ab1Cd2secret=Xy9Wv8Ut7')).toEqual(['Ab1Cd2secret=Xy9Wv8Ut7']);
    expect(values('token:Ab1Cd2secret:Xy9Wv8Ut7')).toEqual(['Ab1Cd2secret:Xy9Wv8Ut7']);
  });

  it('returns the shared empty result when nothing matches', () => {
    expect(genericSecret.find('plain prose without operators')).toBe(NONE);
    expect(genericSecret.find(`username = ${LONG}`)).toBe(NONE);
  });

  it('gates a text on an assignment operator', () => {
    expect(genericSecret.gate('a = b')).toBe(true);
    expect(genericSecret.gate('a: b')).toBe(true);
    expect(genericSecret.gate('plain prose')).toBe(false);
  });

  it('gates a raw line on `=`, an escaped quote, or a colon with a keyword before or Bearer after it', () => {
    const pass = [
      'a = b',
      '{"text":"say \\"hi\\""}',
      'password: x',
      'password:"x"',
      'TOKEN : x',
      'auth: Bearer ',
      'AUTH:bearer x',
      '{"a":"b"} token: x',
    ];
    const fail = [
      'plain text',
      'time 10:30',
      '{"token":"x"}',
      '{"token": "x"}',
      'auth: Bearer',
      'note: something long here',
      'id: x',
    ];
    for (const line of pass)
      expect({ row: line, got: genericSecret.lineGate(line) }).toEqual({ row: line, got: true });
    for (const line of fail)
      expect({ row: line, got: genericSecret.lineGate(line) }).toEqual({ row: line, got: false });
  });
});
