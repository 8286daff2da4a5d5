/**
 * Every detector must stay linear on hostile input: a 1 MiB line made of exactly the characters
 * its pattern likes. About 17 s of one core (68 lines of 1 MiB, each detector measured on an
 * eighth and on the whole, three times): run once by CI in `npm run test:load`, not in `npm test`.
 */
import { DETECTORS, detectAll, type FindingType } from '../../functions/shared/guard';

const MIB = 1024 * 1024;

function fill(unit: string, prefix = '', suffix = ''): string {
  const body = unit.repeat(Math.ceil((MIB - prefix.length - suffix.length) / unit.length));
  return prefix + body.slice(0, MIB - prefix.length - suffix.length) + suffix;
}

const base64 = 'Ab3/+kZ9';
const adversarial: Record<FindingType, string[]> = {
  AWS_ACCESS_KEY_ID: [fill('AKIA'), fill('A'), fill('ASIAZ')],
  AWS_SECRET_ACCESS_KEY: [
    fill(base64, 'aws_secret_access_key = '),
    fill(`secret ${base64.repeat(6)} `),
    fill('AWS '),
  ],
  PRIVATE_KEY: [
    fill('-----BEGIN RSA PRIVATE KEY-----'),
    fill('-----BEGIN'),
    fill('-'),
    fill('A', '-----BEGIN PRIVATE KEY-----\n'),
  ],
  GITHUB_TOKEN: [fill('ghp_'), fill('a', 'ghp_'), fill('gh_'), fill('a_', 'github_pat_')],
  SLACK_TOKEN: [fill('xoxb-'), fill('-', 'xoxb-'), fill('a', 'xoxp-')],
  SLACK_WEBHOOK: [fill('https://hooks.slack.com/services/'), fill('A/', 'https://hooks.slack.com/services/')],
  STRIPE_KEY: [fill('sk_live_'), fill('a', 'sk_live_'), fill('_live_')],
  GOOGLE_API_KEY: [fill('AIza'), fill('-', 'AIza')],
  JWT: [fill('eyJ'), fill('a', 'eyJ'), fill('eyJa.'), fill(`eyJ${'a'.repeat(1999)}.`)],
  GENERIC_SECRET: [
    fill('password='),
    fill(':'),
    fill('='),
    fill('a', 'password: '),
    fill('Bearer '),
    fill('token: x1Y2 '),
  ],
  EMAIL: [fill('@'), fill('a@'), fill('a.'), fill('a', '', '@example.com'), fill('a@b.')],
  PHONE: [fill('1'), fill('(1'), fill('1 '), fill('+1'), fill('1-')],
  CARD_NUMBER: [fill('4'), fill('4 '), fill('4-'), fill('4242 ')],
  US_SSN: [fill('123-'), fill('1'), fill('1 '), fill('12-'), fill('1', 'ssn ')],
  IBAN: [fill('GB33'), fill('GB33 '), fill('A'), fill('1', 'GB33 ')],
  IPV4: [fill('1.'), fill('255.'), fill('1'), fill('1.1.1.1.')],
  IPV6: [fill(':'), fill('a:'), fill('::'), fill('f'), fill('1:2:')],
};

/**
 * CPU time of a synchronous call, in ms: unlike wall time, it does not count the time other
 * processes of the shared machine hold the cores (a load of 15 on 2 cores stretched wall time 3×).
 */
function cpuMs(run: () => unknown): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** The fastest of three runs, in CPU ms: the least disturbed by whatever else the machine is doing. */
function fastest(run: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) best = Math.min(best, cpuMs(run));
  return best;
}

/**
 * Linear, measured as a ratio on this machine rather than against a clock: an eighth of the input
 * takes an eighth of the time (a quadratic pattern would take a sixty-fourth), so the whole may
 * take at most 24 times the eighth (three times the linear 8, plus 50 ms of timer noise). And
 * under 5 s in any case, five times the one second.
 */
function expectLinear(run: (text: string) => unknown, text: string): void {
  // Measured again (up to three times) when a pause of the shared machine lands in one run: a
  // quadratic pattern misses the bound every time, a disturbed measurement rarely twice.
  let eighth = 0;
  let whole = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    eighth = fastest(() => run(text.slice(0, text.length / 8)));
    whole = fastest(() => run(text));
    if (whole < 24 * eighth + 50) break;
  }
  expect(whole).toBeLessThan(24 * eighth + 50);
  expect(whole).toBeLessThan(5000);
}

describe('adversarial 1 MiB lines', () => {
  for (const detector of DETECTORS) {
    it.each(adversarial[detector.type].map((text, i) => [i, text] as const))(
      `${detector.type} #%i takes time linear in its length`,
      (_i, text) => {
        expect(text.length).toBe(MIB);
        expectLinear((t) => detector.find(t), text);
      },
    );
  }

  it("runs all detectors together on each input in under 5 s (five times the issue's second)", () => {
    for (const inputs of Object.values(adversarial)) {
      for (const text of inputs) {
        expect(cpuMs(() => detectAll(text))).toBeLessThan(5000);
      }
    }
  });
});
