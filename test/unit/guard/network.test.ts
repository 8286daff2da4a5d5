import { ipv4, ipv6 } from '../../../functions/shared/guard/detectors/network';
import { found, values } from './detector-hits';
import { fake } from './fixtures';

describe('IPv4 detector', () => {
  it('declares its type and severity', () => {
    expect(ipv4.type).toBe('IPV4');
    expect(ipv4.severity).toBe('low');
  });

  it('reports dotted quads at a boundary, with the span', () => {
    const rows: [string, string, number][] = [
      [`host ${fake.ipv4}.`, fake.ipv4, 5],
      [`host ${fake.ipv4}. Done`, fake.ipv4, 5],
      ['dns 8.8.4.4 ok', '8.8.4.4', 4],
      ['at 10.20.30.40', '10.20.30.40', 3],
      ['at 172.16.254.100', '172.16.254.100', 3],
      ['release to 34.201.17.9', '34.201.17.9', 11],
      ['(34.201.17.9)', '34.201.17.9', 1],
    ];
    for (const [text, value, start] of rows) {
      expect({ row: text, got: found(ipv4, text) }).toEqual({
        row: text,
        got: [{ value, start, severity: 'low', example: false }],
      });
    }
  });

  it('marks loopback, "this network" and the documentation ranges as examples', () => {
    const rows: [string, boolean][] = [
      ['127.0.0.1', true],
      ['0.0.0.0', true],
      ['192.0.2.10', true],
      ['198.51.100.7', true],
      ['203.0.113.9', true],
      ['192.0.20.1', false],
      ['10.0.127.5', false],
      ['34.127.0.1', false],
      ['198.51.10.7', false],
    ];
    for (const [value, example] of rows) {
      expect({ row: value, got: found(ipv4, `ip ${value}`) }).toEqual({
        row: value,
        got: [{ value, start: 3, severity: 'low', example }],
      });
    }
  });

  it('reports nothing inside words, longer dotted numbers, versions or invalid octets', () => {
    const rows = [
      'x34.201.17.9',
      '.34.201.17.9',
      '34.201.17.9x',
      '1.2.3.4.5',
      '999.1.1.1',
      '01.02.03.04',
      'version 1.2.3.4',
      'Version 1.2.3.4',
      'version  1.2.3.4',
      'ver 1.2.3.4',
      'ver. 1.2.3.4',
      'release 1.2.3.4',
    ];
    for (const text of rows) expect({ row: text, got: values(ipv4, text) }).toEqual({ row: text, got: [] });
  });

  it('looks for the version word only in the twelve characters before the address', () => {
    expect(values(ipv4, `version${' '.repeat(5)}1.2.3.4`)).toEqual([]);
    expect(values(ipv4, `version${' '.repeat(6)}1.2.3.4`)).toEqual(['1.2.3.4']);
  });
});

describe('IPv6 detector', () => {
  it('declares its type and severity', () => {
    expect(ipv6.type).toBe('IPV6');
    expect(ipv6.severity).toBe('low');
  });

  it('gates on two colons within five characters, skipping JSON key colons', () => {
    const rows: [string, boolean][] = [
      [fake.ipv6, true],
      ['a:1234:b', true],
      ['a:12345:b', false],
      ['at 10:30, then 11:45', false],
      ['ratio 3:4', false],
      ['no colon', false],
      ['{"host":"::1"}', true],
      ['{"at":"9:30"}', false],
      ['{"time":9:30}', false],
      ['{"a":1,"b":2}', false],
    ];
    for (const [text, expected] of rows)
      expect({ row: text, got: ipv6.gate(text) }).toEqual({ row: text, got: expected });
  });

  it('reports addresses with the span, trimming a sentence-ending full stop', () => {
    const rows: [string, string, number][] = [
      [`bind ${fake.ipv6}`, fake.ipv6, 5],
      [`bind ${fake.ipv6} now`, fake.ipv6, 5],
      [`bind ${fake.ipv6}.`, fake.ipv6, 5],
      [`bind ${fake.ipv6}..`, fake.ipv6, 5],
      ['see:2600:1f18::1', '2600:1f18::1', 4],
      ['mapped ::ffff:34.201.17.9 here', '::ffff:34.201.17.9', 7],
      ['(fe80::1)', 'fe80::1', 1],
    ];
    for (const [text, value, start] of rows) {
      expect({ row: text, got: found(ipv6, text) }).toEqual({
        row: text,
        got: [{ value, start, severity: 'low', example: false }],
      });
    }
  });

  it('marks loopback, the unspecified address and 2001:db8::/32 as examples', () => {
    const rows: [string, string, boolean][] = [
      ['loopback ::1 only', '::1', true],
      ['any ::.', '::', true],
      ['doc 2001:db8::5 x', '2001:db8::5', true],
      ['doc 2001:0DB8:0:0:0:0:0:5 x', '2001:0DB8:0:0:0:0:0:5', true],
      ['on 2600:1f18::1 x', '2600:1f18::1', false],
      ['on 2600:1f18:: x', '2600:1f18::', false],
      ['on 2001:db9::1 x', '2001:db9::1', false],
    ];
    for (const [text, value, example] of rows) {
      expect({ row: text, got: found(ipv6, text) }).toEqual({
        row: text,
        got: [{ value, start: text.indexOf(value), severity: 'low', example }],
      });
    }
  });

  it('reports nothing for times, MAC addresses, glued or malformed values', () => {
    const rows = [
      'at 12:30:45 sharp',
      'MAC 00:1a:2b:3c:4d:5e',
      'ratio 3:4',
      'a::b::c',
      'x2001:db8::1',
      'cafe 1:2 dead',
    ];
    for (const text of rows) expect({ row: text, got: values(ipv6, text) }).toEqual({ row: text, got: [] });
  });
});
