/** Network addresses: IPv4 and IPv6. Loopback and the documentation ranges are marked examples. */
import isIP from 'validator/lib/isIP';
import { colonsOf, defineDetector } from './define';
import { DIGIT_GATES, scanClusters } from './digits';
import { lowerWindow, match, scan } from './match';

const IPV4 = /\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/g;
/** Loopback, "this network", and the three documentation ranges of RFC 5737. */
const IPV4_EXAMPLE = /^(?:127\.|0\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.)/;

export const ipv4 = defineDetector({
  type: 'IPV4',
  severity: 'low',
  ...DIGIT_GATES,
  find(text) {
    return scanClusters(IPV4, text, (hit) => {
      const value = hit[0];
      if (!isIP(value, 4)) return undefined;
      // "version 1.2.3.4", "v10.0.0.1": version strings share the shape.
      if (/\b(?:ver(?:sion)?\.?|release)\s*$/.test(lowerWindow(text, hit.index, 12))) return undefined;
      return match(hit.index, hit.index + value.length, 'low', IPV4_EXAMPLE.test(value));
    });
  },
});

// At a boundary, or after a word and a colon ("see:2600:…"), which no address starts with.
const IPV6 = /[0-9A-Fa-f:](?:(?<![\w:.].)|(?<=[A-Za-z]:[0-9A-Fa-f]))[0-9A-Fa-f:.]{2,44}(?![\w:])/g;
const IPV6_EXAMPLE = /^(?:::1?$|2001:db8:|2001:0db8:)/i;

function mayHoldIpv6(text: string): boolean {
  // Two colons within five characters of each other: rarer in prose than any single colon. JSON's
  // own colons follow a closing quote and are skipped.
  const colons = colonsOf(text);
  for (let k = 0; k < colons.length - 1; k++) {
    const i = colons[k] as number;
    if (text.charCodeAt(i - 1) === 34 && text.charCodeAt(i + 1) !== 58) continue;
    if ((colons[k + 1] as number) - i <= 5) return true;
  }
  return false;
}

export const ipv6 = defineDetector({
  type: 'IPV6',
  severity: 'low',
  gate: mayHoldIpv6,
  find(text) {
    return scan(IPV6, text, (hit) => {
      let value = hit[0];
      while (value.endsWith('.')) value = value.slice(0, -1);
      if (value.indexOf(':') === value.lastIndexOf(':')) return undefined;
      if (!isIP(value, 6)) return undefined;
      return match(hit.index, hit.index + value.length, 'low', IPV6_EXAMPLE.test(value));
    });
  },
});
