/**
 * The first gate of every HTTP request: a localhost server that a web page cannot use.
 *
 * - Host: only names of this endpoint are served — localhost (and `<bucket>.localhost`, which the
 *   SDK uses for virtual-hosted S3), the loopback addresses, and the address it is bound to (for a
 *   wildcard bind, this machine's interface addresses and host name). Anything else is 421: a
 *   page on a DNS-rebound name (evil.example → 127.0.0.1) cannot read S3 data or use KMS keys.
 * - Origin: a browser names the page that sent a request; any Origin other than this endpoint
 *   itself (including `null`) is 403, and so is `Sec-Fetch-Site: cross-site | same-site`, which a
 *   browser sends on requests without an Origin (an <img> or <script> pointing here).
 * - The control API (`/_tunevault/*`) takes only `application/json` bodies (415 otherwise), so a
 *   no-cors `fetch` with `Content-Type: text/plain` — which needs no CORS preflight — is refused.
 *
 * SDKs, awscli and curl send none of Origin or Sec-Fetch-*, so they are unaffected.
 */
import os from 'node:os';
import type { LocalResponse } from './types';

export interface BoundAddress {
  address: string;
  port: number;
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

/** Whether `address` is a loopback address or name (what `--host` may be without --allow-remote). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The host names a request may carry for an endpoint bound to `address`. */
export function servedHostNames(address: string): Set<string> {
  const names = new Set(LOOPBACK);
  names.add(address.toLowerCase());
  if (isWildcard(address)) {
    for (const list of Object.values(os.networkInterfaces()))
      for (const i of list ?? []) names.add(i.address.toLowerCase());
    names.add(os.hostname().toLowerCase());
  }
  return names;
}

/** The host name of a Host header value (`[::1]:4566` → `::1`, `Bucket.LocalHost.:80` → `bucket.localhost`). */
export function hostNameOf(host: string): string {
  const h = host.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

export class HostOriginGuard {
  private readonly names: Set<string>;

  constructor(private readonly bound: BoundAddress) {
    this.names = servedHostNames(bound.address);
  }

  private serves(hostName: string): boolean {
    return this.names.has(hostName) || hostName.endsWith('.localhost');
  }

  /** An answer refusing the request, or undefined when it may go on to the request pipeline. */
  check(req: {
    method?: string;
    url?: string;
    headers: Record<string, string | string[] | undefined>;
  }): LocalResponse | undefined {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const host = header('host');
    if (!host || !this.serves(hostNameOf(host)))
      return refuse(
        421,
        `Host '${host ?? ''}' is not served: the embedded AWS answers only to localhost, the loopback addresses and the address it is bound to (a defence against DNS rebinding). Use http://127.0.0.1:${this.bound.port}.`,
      );
    const origin = header('origin');
    if (origin !== undefined && !this.isOwnOrigin(origin))
      return refuse(
        403,
        `Origin '${origin}' is refused: the embedded AWS serves no web pages, and a page from another origin may not use it.`,
      );
    const site = header('sec-fetch-site')?.toLowerCase();
    if (site === 'cross-site' || site === 'same-site')
      return refuse(403, `A ${site} browser request is refused: a web page may not use the embedded AWS.`);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    if (path.startsWith('/_tunevault/') && !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(method)) {
      const type = header('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json')
        return refuse(
          415,
          `The control API takes only application/json (got ${type ? `'${type}'` : 'no Content-Type'}): send the header Content-Type: application/json.`,
        );
    }
    return undefined;
  }

  private isOwnOrigin(origin: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return url.protocol === 'http:' && port === this.bound.port && this.serves(hostNameOf(url.host));
  }
}

function refuse(status: number, message: string): LocalResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  };
}
