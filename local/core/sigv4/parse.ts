/** Reading a request's SigV4 authentication: the `Authorization` header or the presigned query. */
import type { LocalRequest } from '../types';
import { ALGORITHM } from './crypto';
import { badDate, malformed } from './errors';

/** SigV4 presigned URLs live at most a week (X-Amz-Expires). */
const MAX_PRESIGN_SECONDS = 604_800;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface Parsed {
  presigned: boolean;
  accessKeyId: string;
  shortDate: string;
  region: string;
  scopeService: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  signingDate: Date;
  /** Presigned only. */
  expires?: number;
  token?: string;
}

interface CredentialScope {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
}

function parseCredential(value: string): CredentialScope | undefined {
  const parts = value.split('/');
  if (parts.length !== 5) return undefined;
  const [accessKeyId, shortDate, region, service, terminator] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!accessKeyId || !/^\d{8}$/.test(shortDate) || !region || !service || terminator !== 'aws4_request')
    return undefined;
  return { accessKeyId, shortDate, region, service };
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return formatAmzDate(date) === value ? date : undefined;
}

export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

const CREDENTIAL_SHAPE =
  'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

export function parseHeaderAuth(req: LocalRequest, authorization: string): Parsed {
  const service = req.service;
  const rest = authorization.slice(ALGORITHM.length).trim();
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw malformed(
        service,
        false,
        'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
        `'${item}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
      );
    fields.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !fields.get(k));
  const dateValue = req.headers['x-amz-date'] ?? req.headers.date;
  if (missing.length > 0) {
    const json = missing.map((k) => `Authorization header requires '${k}' parameter.`);
    if (dateValue === undefined)
      json.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    throw malformed(
      service,
      false,
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
      `${json.join(' ')} Authorization=${authorization}`,
    );
  }
  const credentialText = fields.get('Credential') as string;
  const credential = parseCredential(credentialText);
  if (!credential)
    throw malformed(
      service,
      false,
      CREDENTIAL_SHAPE,
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credentialText}'`,
    );
  if (dateValue === undefined)
    throw badDate(
      service,
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`,
    );
  const amzHeader = req.headers['x-amz-date'];
  const signingDate = amzHeader !== undefined ? parseAmzDate(amzHeader) : parseHttpDate(dateValue);
  if (!signingDate)
    throw badDate(
      service,
      `Date must be in ISO-8601 'basic format'. Got '${dateValue}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  return {
    presigned: false,
    accessKeyId: credential.accessKeyId,
    shortDate: credential.shortDate,
    region: credential.region,
    scopeService: credential.service,
    signedHeaders: (fields.get('SignedHeaders') as string).split(';').map((h) => h.trim().toLowerCase()),
    signature: fields.get('Signature') as string,
    amzDate: formatAmzDate(signingDate),
    signingDate,
    token: req.headers['x-amz-security-token'],
  };
}

/** RFC 7231 `Date` (used when no `x-amz-date` is sent), to the second. */
function parseHttpDate(value: string): Date | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(Math.floor(ms / 1000) * 1000);
}

/** Query parameters are matched case-sensitively, as S3 does (`X-Amz-Credential`, not `x-amz-credential`). */
export function parsePresigned(req: LocalRequest): Parsed {
  const service = req.service;
  const q = req.query;
  const algorithm = q.get('X-Amz-Algorithm');
  if (algorithm !== null && algorithm !== ALGORITHM)
    throw malformed(
      service,
      true,
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
      `Unsupported AWS 'algorithm': '${algorithm}' (only AWS4-HMAC-SHA256 for now). `,
    );
  const names = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Expires',
  ];
  const absent = names.find((n) => !q.get(n));
  if (absent !== undefined)
    throw malformed(
      service,
      true,
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      `AWS query-string parameters must include '${absent}'. Re-examine the query-string parameters.`,
    );
  const credentialText = q.get('X-Amz-Credential') as string;
  const credential = parseCredential(credentialText);
  if (!credential)
    throw malformed(
      service,
      true,
      `Error parsing the X-Amz-Credential parameter; ${CREDENTIAL_SHAPE}`,
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credentialText}'`,
    );
  const dateText = q.get('X-Amz-Date') as string;
  const signingDate = parseAmzDate(dateText);
  if (!signingDate)
    throw malformed(
      service,
      true,
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
      `Date must be in ISO-8601 'basic format'. Got '${dateText}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  const expiresText = q.get('X-Amz-Expires') as string;
  if (!/^-?\d+$/.test(expiresText))
    throw malformed(service, true, 'X-Amz-Expires should be a number', 'X-Amz-Expires should be a number');
  const expires = Number(expiresText);
  if (expires < 0)
    throw malformed(
      service,
      true,
      'X-Amz-Expires must be non-negative',
      'X-Amz-Expires must be non-negative',
    );
  if (expires > MAX_PRESIGN_SECONDS)
    throw malformed(
      service,
      true,
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGN_SECONDS} seconds`,
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGN_SECONDS} seconds`,
    );
  return {
    presigned: true,
    accessKeyId: credential.accessKeyId,
    shortDate: credential.shortDate,
    region: credential.region,
    scopeService: credential.service,
    signedHeaders: (q.get('X-Amz-SignedHeaders') as string).split(';').map((h) => h.trim().toLowerCase()),
    signature: q.get('X-Amz-Signature') as string,
    amzDate: dateText,
    signingDate,
    expires,
    token: q.get('X-Amz-Security-Token') ?? undefined,
  };
}
