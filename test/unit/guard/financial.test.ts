import { cardNumber, iban, luhnValid } from '../../../functions/shared/guard/detectors/financial';
import { expectRow, found } from './detector-hits';
import { fake } from './fixtures';

/** The check digit that makes body + digit pass Luhn, computed independently of the module. */
function checkDigit(body: string): string {
  let sum = 0;
  const rev = [...body].reverse();
  rev.forEach((ch, i) => {
    const v = Number(ch) * (i % 2 === 0 ? 2 : 1);
    sum += v > 9 ? v - 9 : v;
  });
  return String((10 - (sum % 10)) % 10);
}

/** A Luhn-valid number of the given length starting with prefix (filler from a fixed pattern). */
function cardWith(prefix: string, length: number, filler = '730194628517'): string {
  let body = prefix;
  for (let i = 0; body.length < length - 1; i++) body += filler[i % filler.length];
  return body + checkDigit(body);
}

/** A Luhn-valid number whose last digit is off by one (fails the checksum). */
function broken(n: string): string {
  const last = Number(n[n.length - 1]);
  return n.slice(0, -1) + String((last + 1) % 10);
}

const j = (...parts: string[]) => parts.join('');

describe('luhnValid', () => {
  it('accepts numbers whose Luhn sum is a multiple of ten and rejects the others', () => {
    const valid = [
      j('45567375', '86899855'),
      j('37828224', '6310005'),
      '0',
      '18',
      '26',
      '59',
      '91',
      '125',
      '1230',
      '79927398713',
    ];
    for (const n of valid) expect(luhnValid(n)).toBe(true);
    const invalid = [
      j('45567375', '86899856'),
      '1',
      '10',
      '19',
      '27',
      '95',
      '126',
      '79927398710',
      '79927398714',
    ];
    for (const n of invalid) expect(luhnValid(n)).toBe(false);
  });

  it('agrees with an independent Luhn on every last digit of generated numbers', () => {
    for (const len of [12, 13, 15, 16, 19]) {
      const n = cardWith('4', len, '9081726354');
      for (let d = 0; d <= 9; d++) {
        const candidate = n.slice(0, -1) + String(d);
        expectRow(candidate, luhnValid(candidate), checkDigit(n.slice(0, -1)) === String(d));
      }
    }
  });
});

describe('cardNumber', () => {
  it('declares its type and severity', () => {
    expect(cardNumber.type).toBe('CARD_NUMBER');
    expect(cardNumber.severity).toBe('high');
    expect(cardNumber.gate('call 123456789')).toBe(true);
    expect(cardNumber.gate('no digits here')).toBe(false);
  });

  it('finds a number in every IIN range at each of its lengths', () => {
    const rows: [string, number][] = [
      ['4', 13],
      ['4', 16],
      ['4', 19],
      ['51', 16],
      ['55', 16],
      ['2221', 16],
      ['2720', 16],
      ['34', 15],
      ['37', 15],
      ['6011', 16],
      ['6011', 19],
      ['644', 16],
      ['649', 17],
      ['65', 18],
      ['300', 14],
      ['305', 15],
      ['36', 16],
      ['38', 17],
      ['39', 19],
      ['3528', 16],
      ['3589', 19],
      ['62', 17],
      ['50', 13],
      ['56', 14],
      ['58', 15],
      ['67', 19],
    ];
    for (const [prefix, length] of rows) {
      const n = cardWith(prefix, length);
      const row = `${prefix}/${length}: ${n}`;
      expectRow(row, found(cardNumber, `card ${n} ok`), [
        { value: n, start: 5, severity: 'high', example: false },
      ]);
    }
  });

  it('reports nothing for Luhn-valid numbers outside the issuers ranges or lengths', () => {
    const rows: [string, number][] = [
      ['1', 16],
      ['7', 16],
      ['8', 16],
      ['9', 16],
      ['9', 19],
      ['2220', 16],
      ['2721', 16],
      ['33', 15],
      ['34', 16],
      ['37', 14],
      ['3527', 16],
      ['3590', 16],
      ['306', 14],
      ['6010', 16],
      ['643', 16],
      ['4', 14],
      ['4', 15],
      ['4', 17],
      ['4', 18],
      ['51', 15],
      ['2221', 17],
      ['65', 15],
      ['62', 15],
      ['36', 13],
      ['59', 16],
      ['67', 20],
    ];
    for (const [prefix, length] of rows) {
      const n = cardWith(prefix, length);
      expectRow(`${prefix}/${length}: ${n}`, found(cardNumber, `ref ${n} ok`), []);
    }
  });

  it('reports nothing for a number that fails Luhn or has too few digits', () => {
    for (const n of [broken(cardWith('4', 16)), broken(cardWith('37', 15)), broken(cardWith('62', 19))]) {
      expectRow(n, found(cardNumber, `card ${n}`), []);
    }
    // Twelve digits: a Maestro length, but shorter than any card the detector looks at.
    for (const n of [cardWith('50', 12), cardWith('67', 12)]) {
      expectRow(n, found(cardNumber, `card ${n}`), []);
    }
    expect(found(cardNumber, j('5555 5555 ', '5555 5555'))).toEqual([]);
  });

  it('marks the published test numbers as low-severity examples', () => {
    const tests = [
      j('42424242', '42424242'),
      j('40000566', '55665556'),
      j('41111111', '11111111'),
      j('40128888', '88881881'),
      j('422222', '2222222'),
      j('55555555', '55554444'),
      j('51051051', '05105100'),
      j('22230031', '22003222'),
      j('3782822', '46310005'),
      j('3714496', '35398431'),
      j('60111111', '11111117'),
      j('60110009', '90139424'),
      j('30569300', '09020004'),
      j('3622720', '6271667'),
      j('35660020', '20360505'),
      j('62000000', '00000005'),
    ];
    for (const n of tests) {
      expectRow(n, found(cardNumber, `test ${n}`), [{ value: n, start: 5, severity: 'low', example: true }]);
    }
  });

  it('finds cards grouped with single spaces or hyphens in groups of three or more', () => {
    const amex = cardWith('37', 15);
    const rows = [
      fake.card,
      '4556-7375-8689-9855',
      '455 673 758 689 9855',
      '4556 737586899855',
      '4556737586 899855',
      amex.replace(/^(\d{4})(\d{6})/, '$1 $2 '),
    ];
    for (const text of rows) {
      expectRow(text, found(cardNumber, `pay ${text} now`), [
        { value: text, start: 4, severity: 'high', example: false },
      ]);
    }
    // At the very start and end of the text.
    expect(found(cardNumber, fake.card)).toEqual([
      { value: fake.card, start: 0, severity: 'high', example: false },
    ]);
  });

  it('does not join groups across other separators, double gaps, mixed separators or short groups', () => {
    const rows = [
      '4556.7375.8689.9855',
      '4556/7375/8689/9855',
      '4556  7375 8689 9855',
      '4556 7375  8689 9855',
      '4556-7375 8689-9855',
      '4556 7375-8689 9855',
      '4556 7375 8689-9855',
      '4556 7375 8689 98 55',
      '45 56 7375 8689 9855',
      '45 567 375 868 99855',
      '4 556737586899855',
      '45 56737586899855',
    ];
    for (const text of rows) expectRow(text, found(cardNumber, `pay ${text} now`), []);
  });

  it('takes the shortest card from a start, leaving a CVV or year after it outside', () => {
    expect(found(cardNumber, `card ${fake.card} 123`)).toEqual([
      { value: fake.card, start: 5, severity: 'high', example: false },
    ]);
    const thirteen = cardWith('4', 13);
    expect(found(cardNumber, `v ${thirteen}`)).toEqual([
      { value: thirteen, start: 2, severity: 'high', example: false },
    ]);
    const nineteen = cardWith('4', 19);
    expect(
      found(cardNumber, `v ${nineteen.slice(0, 4)} ${nineteen.slice(4, 8)} ${nineteen.slice(8)}`),
    ).toEqual([
      {
        value: `${nineteen.slice(0, 4)} ${nineteen.slice(4, 8)} ${nineteen.slice(8)}`,
        start: 2,
        severity: 'high',
        example: false,
      },
    ]);
  });

  it('finds a card beside other numbers and two cards in one text', () => {
    const other = cardWith('5', 16, '2468013579');
    const text = `qty 12 card ${fake.card} and ${other} on 2024-03-13`;
    expect(found(cardNumber, text)).toEqual([
      { value: fake.card, start: 12, severity: 'high', example: false },
      { value: other, start: 36, severity: 'high', example: false },
    ]);
    // A number of more than 19 digits is never a card, however it is grouped.
    expect(found(cardNumber, `id ${cardWith('4', 20)}`)).toEqual([]);
    expect(found(cardNumber, `id ${fake.card} 4556 7375`)).toEqual([
      { value: fake.card, start: 3, severity: 'high', example: false },
    ]);
  });
});

describe('iban', () => {
  const compact = j('GB33BUKB', '20201555555555');

  it('declares its type and severity', () => {
    expect(iban.type).toBe('IBAN');
    expect(iban.severity).toBe('medium');
  });

  it('finds compact and grouped IBANs with their exact span', () => {
    const rows: [string, string, number][] = [
      [`pay to ${fake.iban} please`, fake.iban, 7],
      [compact, compact, 0],
      [`to ${compact}`, compact, 3],
      [`ref 12${compact}`, compact, 6],
      [`iban ${fake.iban} ABC`, fake.iban, 5],
      [`iban ${fake.iban}. Thanks`, fake.iban, 5],
      [`(${compact})`, compact, 1],
    ];
    for (const [text, value, start] of rows) {
      expectRow(text, found(iban, text), [{ value, start, severity: 'medium', example: false }]);
    }
  });

  it('marks the documented example IBANs as low-severity examples', () => {
    const examples = [
      j('DE8937040', '0440532013000'),
      j('GB82WEST1', '2345698765432'),
      j('GB29NWBK6', '0161331926819'),
      j('FR14200410', '10050500013M02606'),
      j('NL91ABNA', '0417164300'),
      fake.exampleIban,
    ];
    for (const value of examples) {
      expectRow(value, found(iban, `e.g. ${value}`), [{ value, start: 5, severity: 'low', example: true }]);
    }
  });

  it('reports nothing for a wrong checksum, country, length, boundary or spacing', () => {
    const rows = [
      'GB34 BUKB 2020 1555 5555 55',
      'ZZ33 BUKB 2020 1555 5555 55',
      j('GB33BUKB', '2020155555555'),
      j('GB33BUKB', '202015555555555'),
      `x${compact}`,
      `X${compact}`,
      `${compact}x`,
      `${compact}0`,
      'GB33  BUKB 2020 1555 5555 55',
      'GB33 BUKB 2020  1555 5555 55',
      'GB3 3BUKB 2020 1555 5555 55',
      'GB 33BUKB 2020 1555 5555 55',
      'gb33 BUKB 2020 1555 5555 55',
      'DE89 3704 0044 0532 0130 001',
    ];
    for (const text of rows) expectRow(text, found(iban, text), []);
  });
});
