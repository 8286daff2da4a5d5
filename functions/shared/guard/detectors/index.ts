/**
 * Secret and PII detectors: each one entry, `defineDetector({...})`, listed in registry.ts, in a
 * module per family: secrets.ts and generic-secret.ts (credentials), personal.ts (e-mail, phone,
 * SSN), financial.ts (cards, IBAN), network.ts (IP addresses). define.ts is how a detector is
 * declared, match.ts what its `find` is made of, digits.ts the work the digit detectors share.
 *
 * A detector declares what must be in a text for it to match (`triggers`, literal strings, or a
 * `gate` function); the registry derives from that both its per-string gate and its bit in the
 * per-line gate, so a detector cannot be left out of either. Detectors read the view of the text
 * (normalize.ts: percent escapes, Unicode spaces, invisible characters decoded), never the raw
 * JSON line.
 *
 * Every regex here is flat: no quantified group contains another quantifier, every repetition is
 * bounded, and a token pattern starts with a lookbehind so it can only begin at a token boundary.
 * That keeps each `find` linear in the text length (the adversarial tests feed 1 MiB lines of the
 * characters each pattern likes). Regexes only propose candidates; the decision is made in code
 * (checksums, prefix tables, entropy, a library validator). Numbers are never taken as one greedy
 * match: every span of digit groups is tried (see digitGroupSpans), so a card or a phone number
 * is found whatever other numbers stand beside it.
 *
 * Libraries: validator (isEmail, isIP), libphonenumber-js/max (full metadata: the default
 * "min" metadata only checks lengths, which would accept most 10-digit numbers), ibantools
 * (country lengths and the mod-97 checksum). Written by hand: Luhn, card IIN table, SSN rules,
 * JWT header check, entropy, the generic key=value scanner — each is a few lines and none of the
 * libraries offers them with linear-time guarantees.
 */
export { type AnchoredLiterals, anchorLiterals, colonsOf, type DetectorSpec, defineDetector } from './define';
export { shannonEntropy } from './match';
export { hasDigitCluster } from './digits';
export {
  awsAccessKeyId,
  awsSecretAccessKey,
  githubToken,
  googleApiKey,
  jwt,
  privateKey,
  slackToken,
  slackWebhook,
  stripeKey,
} from './secrets';
export { genericSecret } from './generic-secret';
export { email, phone, usSsn } from './personal';
export { cardNumber, iban, luhnValid } from './financial';
export { ipv4, ipv6 } from './network';
