/**
 * SigV4 verification for the embedded AWS: header-signed and presigned requests, and the chunk and
 * trailer signatures of S3's `aws-chunked` uploads.
 *
 * API
 * - `authenticate(req, lookup, { now?, region? })` → `Authenticated`, or `undefined` when the request
 *   carries no authentication at all (no `Authorization`, no `X-Amz-*` signature parameters): the caller
 *   decides what anonymous may do (`authErrorFor(service, 'MissingAuthentication')` is AWS's answer
 *   where nothing is public). Every failure throws an `AwsError` already worded for the request's
 *   service: S3's XML codes (403 `SignatureDoesNotMatch`, `InvalidAccessKeyId`, …) or the JSON
 *   services' (`InvalidSignatureException`, `UnrecognizedClientException`, …; 400 for awsJson, 403
 *   for Bedrock's restJson), so `service.errorResponse(err)` renders it as AWS would.
 * - `chunkVerifier(auth)` (stateful, for the `aws-chunked` decoder) or the pure
 *   `verifyChunkSignature` / `verifyTrailerSignature`, which return the signature the next chunk chains on.
 * - `wrongRegionError(service, given, expected, presigned)` for S3's per-bucket region check, and
 *   `authErrorFor(service, kind)` for the errors callers raise themselves.
 *
 * The canonical request and the string to sign come from the SDK's own signer (`@smithy/signature-v4`,
 * the one every AWS SDK v3 client signs with), driven with the wire request: the path exactly as sent
 * (S3 signs it as is; every other service normalises and escapes it once more), the query, only the
 * headers named in `SignedHeaders`, and the payload hash AWS uses. Written by hand, because the signer
 * has no verifying counterpart: the parsing of `Authorization`/`X-Amz-*`, the time and token rules, the
 * HMAC key derivation (cached per key/day/region/service) and the chunk signatures (string to sign from
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and sigv4-streaming-trailers.html).
 * Error codes and messages are AWS's as seen on the wire (sources in the comments and the test names).
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { getCanonicalHeaders, SignatureV4Base } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import { AwsError, type LocalRequest } from './types';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** Set for temporary credentials: requests must then carry exactly this `X-Amz-Security-Token`. */
  sessionToken?: string;
}

export type CredentialLookup = (
  accessKeyId: string,
) => Credential | undefined | Promise<Credential | undefined>;

export type PayloadMode =
  | 'signed'
  | 'unsigned'
  | 'streaming-signed'
  | 'streaming-signed-trailer'
  | 'streaming-unsigned-trailer';

export interface Authenticated {
  accessKeyId: string;
  /** The session token the request carried (temporary credentials), already checked. */
  sessionToken?: string;
  signingDate: Date;
  /** `signingDate` as signed, `YYYYMMDDTHHMMSSZ` (the chunk signatures' second line). */
  amzDate: string;
  region: string;
  service: string;
  signature: string;
  payloadMode: PayloadMode;
  /** The request signature, which the first `aws-chunked` chunk signature chains on. */
  seedSignature: string;
  signingKey: Buffer;
  /** `YYYYMMDD/region/service/aws4_request` */
  scope: string;
  presigned: boolean;
}

export interface AuthenticateOptions {
  /** The server's clock (tests). */
  now?: Date;
  /** When set, a credential scoped to another region is refused (S3 checks the bucket's region itself). */
  region?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Header signatures may be this far from the server's clock (S3: MaxAllowedSkewMilliseconds). */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** SigV4 presigned URLs live at most a week (X-Amz-Expires). */
const MAX_PRESIGN_SECONDS = 604_800;
const HEX64 = /^[0-9a-f]{64}$/i;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The literal `x-amz-content-sha256` values S3 accepts besides a hex digest, and what each means. */
const PAYLOAD_LITERALS: Record<string, PayloadMode> = {
  'UNSIGNED-PAYLOAD': 'unsigned',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': 'streaming-signed',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': 'streaming-signed-trailer',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': 'streaming-unsigned-trailer',
};

// ---------------------------------------------------------------------------------------------------
// Errors, worded per protocol.

type Protocol = 's3' | 'json' | 'rest-json';
/**
 * restJson services answer auth failures with 403 (Bedrock: "403 The security token included in the request
 * is invalid", anthropics/claude-code#2260; Lambda likewise); the awsJson ones (KMS, DynamoDB, Step Functions,
 * EventBridge) with 400 (aws/aws-sdk-js#254, boto/boto3#482).
 */
const REST_JSON_SERVICES = new Set(['bedrock', 'lambda']);

function protocolOf(service: string): Protocol {
  if (service === 's3') return 's3';
  return REST_JSON_SERVICES.has(service) ? 'rest-json' : 'json';
}

function jsonError(service: string, code: string, message: string): AwsError {
  return new AwsError(code, message, protocolOf(service) === 'rest-json' ? 403 : 400);
}

const S3_SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const JSON_SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const JSON_INVALID_TOKEN = 'The security token included in the request is invalid.';

export type AuthErrorKind =
  | 'UnknownAccessKey'
  | 'SignatureDoesNotMatch'
  | 'InvalidToken'
  | 'MissingAuthentication';

/** The error AWS answers for `kind` on `service` (S3 XML code or JSON `__type`). */
export function authErrorFor(
  service: string,
  kind: AuthErrorKind,
  context: { accessKeyId?: string } = {},
): AwsError {
  const s3 = protocolOf(service) === 's3';
  const keyExtra: Record<string, string> =
    context.accessKeyId === undefined ? {} : { AWSAccessKeyId: context.accessKeyId };
  switch (kind) {
    case 'UnknownAccessKey':
      return s3
        ? new AwsError(
            'InvalidAccessKeyId',
            'The AWS Access Key Id you provided does not exist in our records.',
            403,
            keyExtra,
          )
        : jsonError(service, 'UnrecognizedClientException', JSON_INVALID_TOKEN);
    case 'SignatureDoesNotMatch':
      return s3
        ? new AwsError('SignatureDoesNotMatch', S3_SIGNATURE_MISMATCH, 403, keyExtra)
        : jsonError(service, 'InvalidSignatureException', JSON_SIGNATURE_MISMATCH);
    case 'InvalidToken':
      return s3
        ? new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
        : jsonError(service, 'UnrecognizedClientException', JSON_INVALID_TOKEN);
    case 'MissingAuthentication':
      return s3
        ? new AwsError('AccessDenied', 'Access Denied', 403)
        : jsonError(service, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
}

/** A credential scoped to `given` where `expected` serves the request. */
export function wrongRegionError(
  service: string,
  given: string,
  expected: string,
  presigned: boolean,
): AwsError {
  if (protocolOf(service) !== 's3')
    return jsonError(
      service,
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${given}'. `,
    );
  return presigned
    ? new AwsError(
        'AuthorizationQueryParametersError',
        `Error parsing the X-Amz-Credential parameter; the region '${given}' is wrong; expecting '${expected}'`,
        400,
        { Region: expected },
      )
    : new AwsError(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${given}' is wrong; expecting '${expected}'`,
        400,
        { Region: expected },
      );
}

/** A malformed `Authorization` header / query: S3 and the JSON services word it differently. */
function malformed(service: string, presigned: boolean, s3Message: string, jsonMessage: string): AwsError {
  if (protocolOf(service) !== 's3') return jsonError(service, 'IncompleteSignatureException', jsonMessage);
  return presigned
    ? new AwsError('AuthorizationQueryParametersError', s3Message, 400)
    : new AwsError(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; ${s3Message}`,
        400,
      );
}

function unsupportedMechanism(service: string, authorization: string): AwsError {
  if (protocolOf(service) === 's3')
    return new AwsError(
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      400,
    );
  return jsonError(
    service,
    'IncompleteSignatureException',
    "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
      `Authorization header requires 'SignedHeaders' parameter. Authorization=${authorization}`,
  );
}

const spacedBytes = (text: string): string =>
  Array.from(Buffer.from(text, 'utf8'), (b) => b.toString(16).padStart(2, '0')).join(' ');

function signatureMismatch(
  service: string,
  accessKeyId: string,
  provided: string,
  canonicalRequest: string,
  stringToSign: string,
): AwsError {
  if (protocolOf(service) === 's3')
    return new AwsError('SignatureDoesNotMatch', S3_SIGNATURE_MISMATCH, 403, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: provided,
      StringToSignBytes: spacedBytes(stringToSign),
      CanonicalRequest: canonicalRequest,
      CanonicalRequestBytes: spacedBytes(canonicalRequest),
    });
  // DynamoDB, Lambda and Bedrock append what they computed (see the test names for the sources).
  return jsonError(
    service,
    'InvalidSignatureException',
    `${JSON_SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\n` +
      `The String-to-Sign should have been\n'${stringToSign}'\n`,
  );
}

// ---------------------------------------------------------------------------------------------------
// The SDK's canonicalisation, reached through its base class.

/** `Checksum` over node:crypto for the signer (SHA-256, or HMAC-SHA-256 given a secret). */
class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }
  private static create(secret?: SourceData): Hash | Hmac {
    if (secret === undefined) return createHash('sha256');
    const key =
      typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(secret);
    return createHmac('sha256', key);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

/** Exposes the signer's canonical request and string to sign; credentials and region are never used. */
class Canonicalizer extends SignatureV4Base {
  constructor(uriEscapePath: boolean) {
    super({
      service: 'verify',
      region: 'verify',
      credentials: { accessKeyId: 'verify', secretAccessKey: 'verify' },
      sha256: NodeSha256,
      uriEscapePath,
      applyChecksum: false,
    });
  }
  canonicalRequest(request: HttpRequest, headers: Record<string, string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, headers, payloadHash);
  }
  stringToSign(amzDate: string, scope: string, canonicalRequest: string): Promise<string> {
    return this.createStringToSign(amzDate, scope, canonicalRequest, ALGORITHM);
  }
}

/** S3 signs the path as sent; every other service normalises it and escapes it once more. */
const S3_CANONICALIZER = new Canonicalizer(false);
const CANONICALIZER = new Canonicalizer(true);

// ---------------------------------------------------------------------------------------------------
// Keys.

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const SIGNING_KEY_CACHE_SIZE = 512;
const signingKeys = new Map<string, { secret: string; key: Buffer }>();

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"), cached. */
function signingKey(credential: Credential, shortDate: string, region: string, service: string): Buffer {
  const id = `${credential.accessKeyId}/${shortDate}/${region}/${service}`;
  const hit = signingKeys.get(id);
  if (hit && hit.secret === credential.secretAccessKey) return hit.key;
  let key = hmac(`AWS4${credential.secretAccessKey}`, shortDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  signingKeys.delete(id);
  signingKeys.set(id, { secret: credential.secretAccessKey, key });
  if (signingKeys.size > SIGNING_KEY_CACHE_SIZE) {
    const oldest = signingKeys.keys().next().value;
    if (oldest !== undefined) signingKeys.delete(oldest);
  }
  return key;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Signatures are 64 lower-case hex digits (SigV4 `HexEncode`), compared in constant time. */
function sameSignature(expectedHex: string, provided: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(provided)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(provided, 'hex'));
}

// ---------------------------------------------------------------------------------------------------
// Parsing.

interface Parsed {
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

const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

const CREDENTIAL_SHAPE =
  'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

function parseHeaderAuth(req: LocalRequest, authorization: string): Parsed {
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
function parsePresigned(req: LocalRequest): Parsed {
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

// ---------------------------------------------------------------------------------------------------
// Checks.

function checkScope(req: LocalRequest, p: Parsed, options: AuthenticateOptions): void {
  const service = req.service;
  const s3 = protocolOf(service) === 's3';
  if (p.shortDate !== p.amzDate.slice(0, 8)) {
    if (s3)
      throw p.presigned
        ? new AwsError(
            'AuthorizationQueryParametersError',
            'Invalid credential date. Date is not the same as X-Amz-Date.',
            400,
          )
        : new AwsError(
            'AuthorizationHeaderMalformed',
            'The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.',
            400,
          );
    throw jsonError(
      service,
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${p.shortDate}' != '${p.amzDate.slice(0, 8)}', from '${p.amzDate}'.`,
    );
  }
  if (p.scopeService !== service) {
    if (s3)
      throw malformed(
        service,
        p.presigned,
        `incorrect service "${p.scopeService}". This endpoint belongs to "${service}".`,
        '',
      );
    throw jsonError(
      service,
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${service}'. `,
    );
  }
  if (options.region !== undefined && p.region !== options.region)
    throw wrongRegionError(service, p.region, options.region, p.presigned);
}

function checkTime(req: LocalRequest, p: Parsed, now: Date): void {
  const service = req.service;
  const s3 = protocolOf(service) === 's3';
  const signed = p.signingDate.getTime();
  if (p.presigned) {
    const expiresAt = new Date(signed + (p.expires ?? 0) * 1000);
    if (now.getTime() > expiresAt.getTime()) {
      if (s3)
        throw new AwsError('AccessDenied', 'Request has expired', 403, {
          'X-Amz-Expires': String(p.expires),
          Expires: isoSeconds(expiresAt),
          ServerTime: isoSeconds(now),
        });
      throw jsonError(
        service,
        'InvalidSignatureException',
        `Signature expired: ${formatAmzDate(expiresAt)} is now earlier than ${formatAmzDate(now)}.`,
      );
    }
    if (signed - now.getTime() > MAX_SKEW_MS) {
      if (s3)
        throw new AwsError('AccessDenied', 'Request is not yet valid', 403, {
          'X-Amz-Date': p.amzDate,
          Expires: isoSeconds(expiresAt),
          ServerTime: isoSeconds(now),
        });
      throw notYetCurrent(service, p.amzDate, now);
    }
    return;
  }
  const skew = signed - now.getTime();
  if (Math.abs(skew) <= MAX_SKEW_MS) return;
  if (s3)
    throw new AwsError(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      403,
      {
        RequestTime: req.headers['x-amz-date'] ?? req.headers.date ?? p.amzDate,
        ServerTime: isoSeconds(now),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      },
    );
  if (skew > 0) throw notYetCurrent(service, p.amzDate, now);
  throw jsonError(
    service,
    'InvalidSignatureException',
    `Signature expired: ${p.amzDate} is now earlier than ${formatAmzDate(new Date(now.getTime() - MAX_SKEW_MS))} (${formatAmzDate(now)} - 15 min.)`,
  );
}

function notYetCurrent(service: string, amzDate: string, now: Date): AwsError {
  return jsonError(
    service,
    'InvalidSignatureException',
    `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(new Date(now.getTime() + MAX_SKEW_MS))} (${formatAmzDate(now)} + 15 min.)`,
  );
}

/**
 * The payload hash the canonical request ends with. S3 signs whatever `x-amz-content-sha256` says
 * (required on header auth; presigned URLs sign UNSIGNED-PAYLOAD unless the query says otherwise);
 * the other services hash the body themselves.
 */
function payloadOf(req: LocalRequest, p: Parsed): { hash: string; mode: PayloadMode; claimedHex?: string } {
  const s3 = protocolOf(req.service) === 's3';
  if (p.presigned) {
    if (!s3) return { hash: sha256Hex(req.body), mode: 'signed' };
    let claimed: string | undefined;
    for (const [k, v] of req.query) if (k.toLowerCase() === 'x-amz-content-sha256') claimed = v;
    if (claimed === undefined || claimed === 'UNSIGNED-PAYLOAD')
      return { hash: 'UNSIGNED-PAYLOAD', mode: 'unsigned' };
    if (HEX64.test(claimed)) return { hash: claimed, mode: 'signed', claimedHex: claimed };
    throw invalidContentSha256(claimed);
  }
  const header = req.headers['x-amz-content-sha256'];
  if (header === undefined) {
    if (s3)
      throw new AwsError(
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
        400,
      );
    return { hash: sha256Hex(req.body), mode: 'signed' };
  }
  const literal = PAYLOAD_LITERALS[header];
  if (literal !== undefined) return { hash: header, mode: literal };
  if (!HEX64.test(header)) {
    if (s3) throw invalidContentSha256(header);
    return { hash: sha256Hex(req.body), mode: 'signed' };
  }
  if (s3) return { hash: header, mode: 'signed', claimedHex: header };
  return { hash: sha256Hex(req.body), mode: 'signed' };
}

function invalidContentSha256(value: string): AwsError {
  return new AwsError(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    400,
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

/**
 * S3 refuses `x-amz-*` headers that the signature does not cover (403 AccessDenied, HeadersNotSigned);
 * the JSON services require `host` to be signed.
 */
function checkSignedHeaders(req: LocalRequest, p: Parsed): void {
  const signed = new Set(p.signedHeaders);
  if (protocolOf(req.service) !== 's3') {
    if (!signed.has('host'))
      throw jsonError(
        req.service,
        'InvalidSignatureException',
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      );
    return;
  }
  const unsigned = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-amz-') && !signed.has(name) && req.headers[name] !== undefined)
    // A presigned URL's payload is UNSIGNED-PAYLOAD whatever this header says.
    .filter((name) => !(p.presigned && name === 'x-amz-content-sha256'))
    .sort();
  if (unsigned.length > 0)
    throw new AwsError(
      'AccessDenied',
      'There were headers present in the request which were not signed',
      403,
      {
        HeadersNotSigned: unsigned.join(', '),
      },
    );
}

function checkToken(service: string, credential: Credential, token: string | undefined): void {
  const s3 = protocolOf(service) === 's3';
  if (credential.sessionToken === undefined) {
    if (token !== undefined) throw authErrorFor(service, 'InvalidToken');
    return;
  }
  // Temporary keys sent without their token are unknown to S3 (InvalidAccessKeyId), as on AWS.
  if (token === undefined)
    throw s3
      ? authErrorFor(service, 'UnknownAccessKey', { accessKeyId: credential.accessKeyId })
      : authErrorFor(service, 'InvalidToken');
  if (!sameText(credential.sessionToken, token)) throw authErrorFor(service, 'InvalidToken');
}

function toHttpRequest(
  req: LocalRequest,
  p: Parsed,
): { request: HttpRequest; headers: Record<string, string> } {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(req.query.keys())) {
    const values = req.query.getAll(key);
    query[key] = values.length === 1 ? (values[0] as string) : values;
  }
  const present: Record<string, string> = {};
  for (const name of p.signedHeaders) {
    const value = req.headers[name];
    if (value !== undefined) present[name] = value;
  }
  const host = req.headers.host ?? '';
  const request: HttpRequest = {
    method: req.method,
    protocol: 'http:',
    hostname: host,
    path: req.path,
    query,
    headers: present,
  };
  // Include every signed header, even those the signer would never sign itself (user-agent, …).
  return { request, headers: getCanonicalHeaders(request, undefined, new Set(p.signedHeaders)) };
}

// ---------------------------------------------------------------------------------------------------

/** A missing or unreadable request date: S3's AccessDenied, the JSON services' IncompleteSignatureException. */
function badDate(service: string, jsonMessage: string): AwsError {
  return protocolOf(service) === 's3'
    ? new AwsError('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header', 403)
    : jsonError(service, 'IncompleteSignatureException', jsonMessage);
}

/**
 * Verifies the request's SigV4 signature. Returns undefined for a request with no authentication at
 * all; throws the AwsError AWS would answer for anything else that does not verify.
 */
export async function authenticate(
  req: LocalRequest,
  lookup: CredentialLookup,
  options: AuthenticateOptions = {},
): Promise<Authenticated | undefined> {
  const service = req.service;
  const authorization = req.headers.authorization;
  const presignParams = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature'].some((n) =>
    req.query.has(n),
  );
  if (authorization !== undefined && presignParams) {
    if (protocolOf(service) === 's3')
      throw new AwsError(
        'InvalidRequest',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        400,
      );
    throw jsonError(
      service,
      'IncompleteSignatureException',
      "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    );
  }
  let parsed: Parsed;
  if (authorization !== undefined) {
    if (authorization !== ALGORITHM && !authorization.startsWith(`${ALGORITHM} `))
      throw unsupportedMechanism(service, authorization);
    parsed = parseHeaderAuth(req, authorization);
  } else if (presignParams) {
    parsed = parsePresigned(req);
  } else if (req.query.has('AWSAccessKeyId') && req.query.has('Signature')) {
    throw unsupportedMechanism(service, 'AWSAccessKeyId');
  } else {
    return undefined;
  }

  const now = options.now ?? new Date();
  checkScope(req, parsed, options);
  checkTime(req, parsed, now);
  checkSignedHeaders(req, parsed);
  const payload = payloadOf(req, parsed);

  const credential = await lookup(parsed.accessKeyId);
  if (!credential) throw authErrorFor(service, 'UnknownAccessKey', { accessKeyId: parsed.accessKeyId });
  checkToken(service, credential, parsed.token);

  const scope = `${parsed.shortDate}/${parsed.region}/${service}/aws4_request`;
  const key = signingKey(credential, parsed.shortDate, parsed.region, service);
  const canonicalizer = protocolOf(service) === 's3' ? S3_CANONICALIZER : CANONICALIZER;
  const { request, headers } = toHttpRequest(req, parsed);
  const canonicalRequest = canonicalizer.canonicalRequest(request, headers, payload.hash);
  const stringToSign = await canonicalizer.stringToSign(parsed.amzDate, scope, canonicalRequest);
  const expected = hmac(key, stringToSign).toString('hex');
  if (!sameSignature(expected, parsed.signature))
    throw signatureMismatch(service, parsed.accessKeyId, parsed.signature, canonicalRequest, stringToSign);

  // A body that streams (S3 object bodies) is compared with the claimed hash as it is read, and the
  // mismatch answered after reading (s3/body.ts): here there is nothing to hash yet.
  if (payload.claimedHex !== undefined && !req.bodyStream) {
    const computed = sha256Hex(req.body);
    if (computed !== payload.claimedHex.toLowerCase())
      throw new AwsError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
        { ClientComputedContentSHA256: payload.claimedHex, S3ComputedContentSHA256: computed },
      );
  }

  const signature = parsed.signature;
  return {
    accessKeyId: parsed.accessKeyId,
    ...(parsed.token !== undefined ? { sessionToken: parsed.token } : {}),
    signingDate: parsed.signingDate,
    amzDate: parsed.amzDate,
    region: parsed.region,
    service,
    signature,
    payloadMode: payload.mode,
    seedSignature: signature,
    signingKey: key,
    scope,
    presigned: parsed.presigned,
  };
}

// ---------------------------------------------------------------------------------------------------
// aws-chunked chunk and trailer signatures.

export type ChunkSigning = Pick<
  Authenticated,
  'signingKey' | 'amzDate' | 'scope' | 'service' | 'accessKeyId'
>;

function chunkMismatch(auth: ChunkSigning, provided: string | undefined, stringToSign: string): AwsError {
  const error = authErrorFor(auth.service, 'SignatureDoesNotMatch', { accessKeyId: auth.accessKeyId });
  if (protocolOf(auth.service) !== 's3') return error;
  return new AwsError(error.code, error.message, error.status, {
    ...error.extra,
    StringToSign: stringToSign,
    SignatureProvided: provided ?? '',
  });
}

/**
 * Verifies one `aws-chunked` chunk (the final, empty one included): its `chunk-signature` must be
 * HMAC(kSigning, "AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<previous>\n<sha256("")>\n<sha256(chunk)>").
 * Returns the signature, which the next chunk (or the trailer) chains on; throws SignatureDoesNotMatch.
 */
export function verifyChunkSignature(
  auth: ChunkSigning,
  previousSignature: string,
  chunk: Buffer,
  claimed: string | undefined,
): string {
  return verifyChunkDigest(auth, previousSignature, sha256Hex(chunk), claimed);
}

/** verifyChunkSignature with the chunk's SHA-256 (hex) computed by the caller, as a streaming decoder does. */
export function verifyChunkDigest(
  auth: ChunkSigning,
  previousSignature: string,
  chunkSha256Hex: string,
  claimed: string | undefined,
): string {
  const stringToSign = [
    'AWS4-HMAC-SHA256-PAYLOAD',
    auth.amzDate,
    auth.scope,
    previousSignature,
    EMPTY_SHA256,
    chunkSha256Hex,
  ].join('\n');
  const expected = hmac(auth.signingKey, stringToSign).toString('hex');
  if (claimed === undefined || !sameSignature(expected, claimed))
    throw chunkMismatch(auth, claimed, stringToSign);
  return expected;
}

/**
 * Verifies `x-amz-trailer-signature`: HMAC(kSigning, "AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n<previous>\n
 * <sha256 of the trailing headers as `name:value\n` lines>"). `trailers` are the trailing headers in the
 * order sent, without the signature itself.
 */
export function verifyTrailerSignature(
  auth: ChunkSigning,
  previousSignature: string,
  trailers: ReadonlyArray<readonly [string, string]>,
  claimed: string | undefined,
): string {
  const canonical = trailers.map(([name, value]) => `${name.toLowerCase()}:${value.trim()}\n`).join('');
  const stringToSign = [
    'AWS4-HMAC-SHA256-TRAILER',
    auth.amzDate,
    auth.scope,
    previousSignature,
    sha256Hex(canonical),
  ].join('\n');
  const expected = hmac(auth.signingKey, stringToSign).toString('hex');
  if (claimed === undefined || !sameSignature(expected, claimed))
    throw chunkMismatch(auth, claimed, stringToSign);
  return expected;
}

export interface ChunkVerifier {
  /** One chunk as framed: its header line (`<hex-size>;chunk-signature=<sig>`) and its data. */
  chunk(headerLine: string, data: Buffer): void;
  /** The same for a decoder that streams the chunk through: its SHA-256 (hex) and whether it was empty. */
  chunkDigest(headerLine: string, sha256Hex: string, empty: boolean): void;
  /** After the final (empty) chunk: the trailing headers as received (name → value, in order). */
  end(trailers: Record<string, string>): void;
}

/**
 * A stateful verifier for the `aws-chunked` decoder, or undefined when the request's chunks carry no
 * signatures (STREAMING-UNSIGNED-PAYLOAD-TRAILER, or not chunked at all).
 */
export function chunkVerifier(auth: Authenticated | undefined): ChunkVerifier | undefined {
  if (!auth || (auth.payloadMode !== 'streaming-signed' && auth.payloadMode !== 'streaming-signed-trailer'))
    return undefined;
  let previous = auth.seedSignature;
  let ended = false;
  const verifier: ChunkVerifier = {
    chunk(headerLine, data) {
      verifier.chunkDigest(headerLine, sha256Hex(data), data.length === 0);
    },
    chunkDigest(headerLine, digest, empty) {
      if (ended) throw chunkMismatch(auth, undefined, 'data after the final chunk');
      const claimed = /(?:^|;)\s*chunk-signature=([^;\s]*)/.exec(headerLine)?.[1];
      previous = verifyChunkDigest(auth, previous, digest, claimed);
      if (empty) ended = true;
    },
    end(trailers) {
      if (!ended) throw chunkMismatch(auth, undefined, 'no final chunk');
      if (auth.payloadMode !== 'streaming-signed-trailer') return;
      const lines = Object.entries(trailers).filter(([name]) => name !== 'x-amz-trailer-signature');
      previous = verifyTrailerSignature(auth, previous, lines, trailers['x-amz-trailer-signature']);
    },
  };
  return verifier;
}
