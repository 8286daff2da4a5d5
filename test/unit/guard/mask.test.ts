/**
 * Masked previews of findings (maskToken, maskValue): exact strings for each rule — the visible
 * tail of a secret by its length, the star cap, each vendor prefix that stays readable (and near
 * misses that must not), and the shape kept of each kind of personal data.
 *
 * Every value is fake; credential-shaped ones are built from fragments at run time (as in
 * fixtures.ts), so no literal in the repository looks like a credential.
 */
import { maskToken, maskValue } from '../../../functions/shared/guard/mask';
import type { FindingType } from '../../../functions/shared/guard/types';
import { pseudoRandom } from './fixtures';

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const stars = (n: number) => '*'.repeat(n);
const join = (...parts: string[]) => parts.join('');

describe('maskToken', () => {
  it('shows no tail of an 11-character secret: 11 stars', () => {
    expect(maskToken('Qm7xLp2Rt9v')).toBe('***********');
  });

  it('shows the last 2 characters of a 12-character secret after 10 stars', () => {
    expect(maskToken('Qm7xLp2Rt9vK')).toBe('**********vK');
  });

  it('shows the last 2 characters of a 15-character secret after 13 stars', () => {
    expect(maskToken('Qm7xLp2Rt9vKw3Z')).toBe('*************3Z');
  });

  it('shows the last 4 characters of a 16-character secret after 12 stars', () => {
    expect(maskToken('Qm7xLp2Rt9vKw3Zc')).toBe('************w3Zc');
  });

  it('caps the stars at 24 for a 40-character secret and shows its last 4 characters', () => {
    const secret = join('Qm7xLp2Rt9', 'vKw3ZcH8nB', 'f5Ty1uJ6sD', 'e0Ga4WoXq8');
    expect(secret.length).toBe(40);
    expect(maskToken(secret)).toBe('************************oXq8');
  });

  it('shows at least one star, even for a 1-character or empty value', () => {
    expect(maskToken('x')).toBe('*');
    expect(maskToken('')).toBe('*');
  });
});

describe('maskValue: personal data', () => {
  it('EMAIL keeps the first character and the top-level domain', () => {
    expect(maskValue('EMAIL', 'jane.doe@acme-payroll.com')).toBe('j***@***.com');
    expect(maskValue('EMAIL', 'o.brien@mail.example.co.uk')).toBe('o***@***.uk');
  });

  it('EMAIL takes the domain after the last @, not a dot in the local part', () => {
    expect(maskValue('EMAIL', 'jane.doe@localhost')).toBe('j***@***.localhost');
    expect(maskValue('EMAIL', 'ops@team.internal@example.org')).toBe('o***@***.org');
    expect(maskValue('EMAIL', 'first.last@intranet')).toBe('f***@***.intranet');
  });

  it('CARD_NUMBER shows a star group per 4 hidden digits and the last 4 digits, whatever the spacing', () => {
    expect(maskValue('CARD_NUMBER', '4539 1452 6018 1594')).toBe('**** **** **** 1594');
    expect(maskValue('CARD_NUMBER', '4539145260181594')).toBe('**** **** **** 1594');
    expect(maskValue('CARD_NUMBER', '4539-1452-6018-1594')).toBe('**** **** **** 1594');
    expect(maskValue('CARD_NUMBER', '3782 822463 10005')).toBe('**** **** **** 0005');
    expect(maskValue('CARD_NUMBER', '4222222222222')).toBe('**** **** **** 2222');
    expect(maskValue('CARD_NUMBER', '6011 0009 9013 9424 123')).toBe('**** **** **** **** 4123');
    expect(maskValue('CARD_NUMBER', '5555 5555 4444')).toBe('**** **** 4444');
  });

  it('US_SSN shows none of its digits', () => {
    expect(maskValue('US_SSN', '219-38-4417')).toBe('***-**-****');
    expect(maskValue('US_SSN', '219384417')).toBe('***-**-****');
  });

  it('PHONE keeps its layout and only its last two digits', () => {
    expect(maskValue('PHONE', '(415) 867-5309')).toBe('(***) ***-**09');
    expect(maskValue('PHONE', '+44 20 7946 0958')).toBe('+** ** **** **58');
    expect(maskValue('PHONE', '415.867.5309')).toBe('***.***.**09');
  });

  it('IPV4 keeps the first octet', () => {
    expect(maskValue('IPV4', '203.0.113.42')).toBe('203.*.*.*');
    expect(maskValue('IPV4', '10.20.30.40')).toBe('10.*.*.*');
  });

  it('IPV6 keeps the first group', () => {
    expect(maskValue('IPV6', '2001:db8::8a2e:370:7334')).toBe('2001:****');
    expect(maskValue('IPV6', 'fe80::1ff:fe23:4567:890a')).toBe('fe80:****');
  });

  it('IPV6 starting with "::" keeps no group', () => {
    expect(maskValue('IPV6', '::1')).toBe(':****');
    expect(maskValue('IPV6', '::ffff:192.0.2.128')).toBe(':****');
  });

  it('PRIVATE_KEY keeps its recognizable header', () => {
    const body = pseudoRandom(`${B62}+/`, 64, 5);
    const rsa = join('-----BEGIN RSA ', 'PRIVATE KEY-----\n', body, '\n-----END RSA ', 'PRIVATE KEY-----');
    const openssh = join('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\n', body);
    const pkcs8 = join('-----BEGIN ', 'PRIVATE KEY-----\n', body);
    expect(maskValue('PRIVATE_KEY', rsa)).toBe(join('-----BEGIN RSA ', 'PRIVATE KEY----- ****'));
    expect(maskValue('PRIVATE_KEY', openssh)).toBe(join('-----BEGIN OPENSSH ', 'PRIVATE KEY----- ****'));
    expect(maskValue('PRIVATE_KEY', pkcs8)).toBe(join('-----BEGIN ', 'PRIVATE KEY----- ****'));
  });

  it('PRIVATE_KEY without a recognizable header gets the generic header', () => {
    const body = pseudoRandom(`${B62}+/`, 64, 6);
    expect(maskValue('PRIVATE_KEY', body)).toBe(join('-----BEGIN ', 'PRIVATE KEY----- ****'));
    expect(maskValue('PRIVATE_KEY', join('-----BEGIN encrypted ', 'PRIVATE KEY-----\n', body))).toBe(
      join('-----BEGIN ', 'PRIVATE KEY----- ****'),
    );
  });

  it('IBAN keeps the country and the last 4 characters, spaces removed', () => {
    expect(maskValue('IBAN', 'GB33 BUKB 2020 1555 5555 55')).toBe('GB****************5555');
    expect(maskValue('IBAN', 'DE89370400440532013000')).toBe('DE****************3000');
    expect(maskValue('IBAN', 'NO93 8601 1117 947')).toBe('NO*********7947');
  });
});

describe('maskValue: secrets behind a fixed vendor prefix', () => {
  /** [type, prefix, body, stars]: the prefix stays readable, then that many stars and the last 4 of the body. */
  const prefixed: [FindingType, string, string, number][] = [
    ['GITHUB_TOKEN', join('gh', 'p_'), pseudoRandom(B62, 36, 8), 24],
    ['GITHUB_TOKEN', join('gh', 'o_'), pseudoRandom(B62, 36, 21), 24],
    ['GITHUB_TOKEN', join('gh', 'u_'), pseudoRandom(B62, 36, 22), 24],
    ['GITHUB_TOKEN', join('gh', 's_'), pseudoRandom(B62, 36, 23), 24],
    ['GITHUB_TOKEN', join('gh', 'r_'), pseudoRandom(B62, 36, 24), 24],
    [
      'GITHUB_TOKEN',
      join('github', '_pat_'),
      join(pseudoRandom(B62, 22, 9), '_', pseudoRandom(B62, 59, 10)),
      24,
    ],
    ['SLACK_TOKEN', join('xo', 'xa-'), join('2048193', '4520-', pseudoRandom(B62, 24, 25)), 24],
    ['SLACK_TOKEN', join('xo', 'xb-'), join('2048193', '4520-', pseudoRandom(B62, 24, 26)), 24],
    ['SLACK_TOKEN', join('xo', 'xp-'), join('2048193', '4520-', pseudoRandom(B62, 24, 27)), 24],
    ['SLACK_TOKEN', join('xo', 'xo-'), join('2048193', '4520-', pseudoRandom(B62, 24, 28)), 24],
    ['SLACK_TOKEN', join('xo', 'xs-'), join('2048193', '4520-', pseudoRandom(B62, 24, 29)), 24],
    ['SLACK_TOKEN', join('xo', 'xr-'), join('2048193', '4520-', pseudoRandom(B62, 24, 30)), 24],
    ['STRIPE_KEY', join('sk', '_live_'), pseudoRandom(B62, 24, 15), 20],
    ['STRIPE_KEY', join('sk', '_test_'), pseudoRandom(B62, 24, 31), 20],
    ['STRIPE_KEY', join('pk', '_live_'), pseudoRandom(B62, 24, 17), 20],
    ['STRIPE_KEY', join('pk', '_test_'), pseudoRandom(B62, 24, 32), 20],
    ['STRIPE_KEY', join('rk', '_live_'), pseudoRandom(B62, 24, 16), 20],
    ['STRIPE_KEY', join('rk', '_test_'), pseudoRandom(B62, 24, 33), 20],
    ['GOOGLE_API_KEY', join('AI', 'za'), pseudoRandom(`${B62}_-`, 35, 18), 24],
    ['AWS_ACCESS_KEY_ID', join('AK', 'IA'), pseudoRandom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 1), 12],
    ['AWS_ACCESS_KEY_ID', join('AS', 'IA'), pseudoRandom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 34), 12],
    [
      'JWT',
      'eyJ',
      join(
        Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url').slice(3),
        '.',
        Buffer.from('{"sub":"user-4711"}').toString('base64url'),
        '.',
        pseudoRandom(`${B62}_-`, 43, 19),
      ),
      24,
    ],
    [
      'SLACK_WEBHOOK',
      join('https://hooks.', 'slack.com/services/'),
      join('T', pseudoRandom('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 8, 12), '/B', pseudoRandom(B62, 24, 14)),
      24,
    ],
    [
      'SLACK_WEBHOOK',
      join('https://hooks.', 'slack.com/workflows/'),
      join('T', pseudoRandom('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 8, 35), '/A', pseudoRandom(B62, 24, 36)),
      24,
    ],
    [
      'SLACK_WEBHOOK',
      join('https://hooks.', 'slack.com/triggers/'),
      join('T', pseudoRandom('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 8, 37), '/', pseudoRandom(B62, 24, 38)),
      24,
    ],
  ];

  it.each(prefixed)(
    '%s with prefix %s keeps the prefix, then stars and the last 4 characters',
    (type, prefix, body, count) => {
      expect(maskValue(type, prefix + body)).toBe(prefix + stars(count) + body.slice(-4));
    },
  );

  it('a short body after a prefix shows fewer tail characters (12 chars: 2, 11 chars: none)', () => {
    expect(maskValue('STRIPE_KEY', join('sk', '_live_', 'Qm7xLp2Rt9vK'))).toBe(
      join('sk', '_live_', '**********vK'),
    );
    expect(maskValue('AWS_ACCESS_KEY_ID', join('AK', 'IA', 'QM7XLP2RT9V'))).toBe(
      join('AK', 'IA', '***********'),
    );
  });
});

describe('maskValue: near misses of a vendor prefix are masked whole', () => {
  const nearMisses: [string, string, number][] = [
    ['ghx_', join('gh', 'x_', pseudoRandom(B62, 36, 40)), 24],
    ['gha_', join('gh', 'a_', pseudoRandom(B62, 36, 41)), 24],
    ['xoxz-', join('xo', 'xz-', '2048193', '4520-', pseudoRandom(B62, 24, 42)), 24],
    ['xoxc-', join('xo', 'xc-', '2048193', '4520-', pseudoRandom(B62, 24, 43)), 24],
    ['tk_live_', join('tk', '_live_', pseudoRandom(B62, 24, 44)), 24],
    ['ak_test_', join('ak', '_test_', pseudoRandom(B62, 24, 45)), 24],
    ['sk_prod_', join('sk', '_prod_', pseudoRandom(B62, 24, 46)), 24],
    ['AIzb', join('AI', 'zb', pseudoRandom(`${B62}_-`, 35, 47)), 24],
    ['ABIA', join('AB', 'IA', pseudoRandom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 48)), 16],
    ['eyj', join('ey', 'j', pseudoRandom(B62, 40, 49)), 24],
    ['hooks.slack.com/apps/', join('https://hooks.', 'slack.com/apps/', pseudoRandom(B62, 30, 50)), 24],
    ['prefix not at the start', join('token=', 'gh', 'p_', pseudoRandom(B62, 36, 51)), 24],
  ];

  it.each(nearMisses)('%s: stars and the last 4 characters, no prefix kept', (_name, value, count) => {
    expect(maskValue('GENERIC_SECRET', value)).toBe(stars(count) + value.slice(-4));
  });

  it('a secret of another type with no prefix is masked as a token (AWS secret key, 40 characters)', () => {
    const secret = join(
      pseudoRandom(B62, 18, 2),
      '/',
      pseudoRandom(B62, 12, 3),
      '+',
      pseudoRandom(B62, 8, 4),
    );
    expect(secret.length).toBe(40);
    expect(maskValue('AWS_SECRET_ACCESS_KEY', secret)).toBe(stars(24) + secret.slice(-4));
  });
});
