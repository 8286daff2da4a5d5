import { email, phone, usSsn } from '../../../functions/shared/guard/detectors/personal';
import { found, values } from './detector-hits';
import { fake } from './fixtures';

describe('email detector', () => {
  it('declares its type, severity and the @ trigger', () => {
    expect(email.type).toBe('EMAIL');
    expect(email.severity).toBe('medium');
    expect(email.gate('write to a@b')).toBe(true);
    expect(email.gate('no address here')).toBe(false);
  });

  it('reports the address with its span, medium and not an example', () => {
    const text = `write to ${fake.email} today`;
    expect(found(email, text)).toEqual([{ value: fake.email, start: 9, severity: 'medium', example: false }]);
  });

  it('trims the full stops and hyphens the domain pattern swallows at the end', () => {
    for (const tail of ['.', '-', '.-.', '--', '. Next']) {
      const text = `mail ${fake.email}${tail}`;
      expect({ row: JSON.stringify(text), got: values(email, text) }).toEqual({
        row: JSON.stringify(text),
        got: [fake.email],
      });
    }
  });

  it('finds addresses only at a boundary and rejects malformed ones', () => {
    const rows: [string, string[]][] = [
      ['jane.doe@acme-payroll.com', ['jane.doe@acme-payroll.com']],
      ['(jane@acme.com)', ['jane@acme.com']],
      ['jane..doe@acme.com', []],
      ['jane@acme.xn--p1ai', []], // a punycode TLD: not two or more letters
      ['jane@acme.c', []],
      ['jane@acme.co1', []],
      ['jane@acme', []],
      ['user@localhost-only', []],
      ['a@b.co and c@d.org', ['a@b.co', 'c@d.org']],
    ];
    for (const [text, expected] of rows)
      expect({ row: text, got: values(email, text) }).toEqual({ row: text, got: expected });
  });

  it('marks documentation and test domains as low-severity examples', () => {
    const rows: [string, boolean][] = [
      ['someone@example.com', true],
      ['someone@example.net', true],
      ['someone@EXAMPLE.ORG', true],
      ['someone@mail.example.com', true],
      ['someone@host.example', true],
      ['someone@host.test', true],
      ['someone@box.invalid', true],
      ['someone@box.localhost', true],
      ['someone@example.com.au', false],
      ['someone@notexample.com', false],
      ['someone@testing.com', false],
      ['someone@test-lab.com', false],
      ['someone@acme.com', false],
    ];
    for (const [address, example] of rows) {
      expect({ row: address, got: found(email, `to ${address} now`) }).toEqual({
        row: address,
        got: [{ value: address, start: 3, severity: example ? 'low' : 'medium', example }],
      });
    }
  });
});

describe('phone detector', () => {
  it('declares its type and severity', () => {
    expect(phone.type).toBe('PHONE');
    expect(phone.severity).toBe('medium');
  });

  it('reports North American numbers in their usual groupings, with the span', () => {
    const rows: [string, string, number][] = [
      [`call ${fake.phone} today`, fake.phone, 5],
      ['call 415-867-5309 today', '415-867-5309', 5],
      ['call 415.867.5309', '415.867.5309', 5],
      ['call 415 867 5309', '415 867 5309', 5],
      ['call 415 8675309', '415 8675309', 5],
      ['call 201 8675309', '201 8675309', 5],
      ['call 1-415-867-5309', '1-415-867-5309', 5],
      ['call 1(415) 867-5309', '1(415) 867-5309', 5],
      ['call (415)867-5309', '(415)867-5309', 5],
      ['call 415867-5309', '415867-5309', 5],
      ['call 1 (415) 867-5309', '1 (415) 867-5309', 5],
      ['call +1 (415) 867-5309', '+1 (415) 867-5309', 5],
      ['call 415-867-5309.', '415-867-5309', 5],
      ['fax/415-867-5309', '415-867-5309', 4],
      ['5 415-867-5309', '415-867-5309', 2],
      ['1 2 3 415 867 5309', '415 867 5309', 6],
      ['(415 867 5309', '415 867 5309', 1],
      ['dial 011 1 415 867 5309', '1 415 867 5309', 9],
      ['415 867 5309 1', '415 867 5309', 0],
    ];
    for (const [text, value, start] of rows) {
      expect({ row: text, got: found(phone, text) }).toEqual({
        row: text,
        got: [{ value, start, severity: 'medium', example: false }],
      });
    }
  });

  it('reports international numbers with their plus sign', () => {
    const rows: [string, string][] = [
      ['London +44 20 7946 0958', '+44 20 7946 0958'],
      ['London +44 20 7946 0958 1234', '+44 20 7946 0958'],
      ['Paris +33 1 42 68 53 11', '+33 1 42 68 53 11'],
      ['+44 20 7555 0123', '+44 20 7555 0123'],
      ['Vienna +43 664 1234567890', '+43 664 1234567890'], // fifteen digits
    ];
    for (const [text, value] of rows) {
      expect({ row: text, got: found(phone, text) }).toEqual({
        row: text,
        got: [{ value, start: text.indexOf('+'), severity: 'medium', example: false }],
      });
    }
  });

  it('marks the 555-01xx numbers reserved for fiction as low-severity examples', () => {
    for (const value of [fake.fictionalPhone, '202-555-0100', '1 202 555 0199']) {
      expect({ row: value, got: found(phone, `tel ${value}`) }).toEqual({
        row: value,
        got: [{ value, start: 4, severity: 'low', example: true }],
      });
    }
    expect({ row: '555-02xx', got: found(phone, 'tel 202-555-0200') }).toEqual({
      row: '555-02xx',
      got: [{ value: '202-555-0200', start: 4, severity: 'medium', example: false }],
    });
  });

  it('reports nothing for bare digit runs, other groupings, words, dates and invalid numbers', () => {
    const rows = [
      'order 4158675309 shipped',
      'qty 1 4158675309',
      'qty 1-4158675309',
      'id +1 4158675309',
      'id +14158675309',
      '4158 675 309',
      '41 58 67 53 09',
      'ab415-867-5309',
      '.415 867 5309',
      '2024-415-867-5309',
      '12/415 867 5309',
      '415 867 5309x',
      '415 867 5309-12',
      '(415) 123-4567',
      '+1 41 58 67 53 0 9', // seven groups
      '+44 20/7946 0958',
      'ref 123456789, +44 20   7946 0958', // three spaces between groups
      'Nuuk +299 321000', // a valid number of nine digits
      'Vienna +43 0 664 1234567890', // sixteen digits
      '+999 1234 567 890',
      'call 555-0143',
    ];
    for (const text of rows) expect({ row: text, got: values(phone, text) }).toEqual({ row: text, got: [] });
  });

  it('reports several numbers in one text', () => {
    expect(values(phone, 'call 415-867-5309 or (202) 867-5309')).toEqual(['415-867-5309', '(202) 867-5309']);
  });
});

describe('US SSN detector', () => {
  it('declares its type and severity', () => {
    expect(usSsn.type).toBe('US_SSN');
    expect(usSsn.severity).toBe('high');
  });

  it('reports numbers written with hyphens or spaces, with the span', () => {
    const rows: [string, string, number][] = [
      [`SSN ${fake.ssn}.`, fake.ssn, 4],
      ['no. 219 38 4417 on file', '219 38 4417', 4],
      ['899-12-3456', '899-12-3456', 0],
      ['001-01-0001', '001-01-0001', 0],
      ['665-12-3456', '665-12-3456', 0],
      ['667-12-3456', '667-12-3456', 0],
    ];
    for (const [text, value, start] of rows) {
      expect({ row: text, got: found(usSsn, text) }).toEqual({
        row: text,
        got: [{ value, start, severity: 'high', example: false }],
      });
    }
  });

  it('rejects impossible areas, groups and serials and numbers glued to others', () => {
    const rows = [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '912-12-3456',
      '219-00-4417',
      '219-38-0000',
      '219-38 4417',
      '1219-38-4417',
      'x-219-38-4417',
      '219-38-44171',
      '219-38-4417-2',
      '21-938-4417',
    ];
    for (const text of rows) expect({ row: text, got: values(usSsn, text) }).toEqual({ row: text, got: [] });
  });

  it('marks the published and misused numbers as low-severity examples', () => {
    for (const value of ['123-45-6789', '078-05-1120', '219-09-9999', '457-55-5462']) {
      expect({ row: value, got: found(usSsn, value) }).toEqual({
        row: value,
        got: [{ value, start: 0, severity: 'low', example: true }],
      });
    }
  });

  it('reports nine bare digits only after "ssn" or "social security" within 40 characters', () => {
    const rows: [string, string[]][] = [
      ['ssn: 219384417 on file', ['219384417']],
      ['Social Security number 219384417', ['219384417']],
      [`SSN${' '.repeat(37)}219384417`, ['219384417']],
      [`SSN${' '.repeat(38)}219384417`, []],
      ['219384417 is my ssn', []],
      ['order 219384417', []],
      ['ssn 1219384417', []],
      ['ssn 2193844170', []],
      ['ssn 000384417', []],
      ['ssn 219004417', []],
      ['ssn 219380000', []],
    ];
    for (const [text, expected] of rows)
      expect({ row: text, got: values(usSsn, text) }).toEqual({ row: text, got: expected });
    expect({ row: 'bare example', got: found(usSsn, 'ssn 123456789') }).toEqual({
      row: 'bare example',
      got: [{ value: '123456789', start: 4, severity: 'low', example: true }],
    });
  });

  it('returns bare and formatted numbers together in text order', () => {
    const text = 'SSN 219384417, 318-42-1234 and 219-38-4417';
    expect(found(usSsn, text).map((h) => [h.value, h.start])).toEqual([
      ['219384417', 4],
      ['318-42-1234', 15],
      ['219-38-4417', 31],
    ]);
  });
});
