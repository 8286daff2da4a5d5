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
 *
 * Here: the checks and `authenticate`. Beside it: sigv4/parse.ts (the header or the query),
 * sigv4/crypto.ts (canonical request, signing key, comparison), sigv4/errors.ts (AWS's errors per
 * protocol), sigv4/chunks.ts (the `aws-chunked` signatures).
 */
import { getCanonicalHeaders } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import {
  ALGORITHM,
  CANONICALIZER,
  hmac,
  S3_CANONICALIZER,
  sameSignature,
  sameText,
  sha256Hex,
  signingKey,
} from './sigv4/crypto';
import {
  authErrorFor,
  jsonError,
  malformed,
  protocolOf,
  signatureMismatch,
  unsupportedMechanism,
  wrongRegionError,
} from './sigv4/errors';
import { formatAmzDate, isoSeconds, type Parsed, parseHeaderAuth, parsePresigned } from './sigv4/parse';
import { AwsError, type LocalRequest } from './types';

export {
  type ChunkSigning,
  type ChunkVerifier,
  chunkVerifier,
  verifyChunkDigest,
  verifyChunkSignature,
  verifyTrailerSignature,
} from './sigv4/chunks';
export { type AuthErrorKind, authErrorFor, wrongRegionError } from './sigv4/errors';
export { formatAmzDate } from './sigv4/parse';

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

/** Header signatures may be this far from the server's clock (S3: MaxAllowedSkewMilliseconds). */
const MAX_SKEW_MS = 15 * 60 * 1000;
const HEX64 = /^[0-9a-f]{64}$/i;

/** The literal `x-amz-content-sha256` values S3 accepts besides a hex digest, and what each means. */
const PAYLOAD_LITERALS: Record<string, PayloadMode> = {
  'UNSIGNED-PAYLOAD': 'unsigned',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': 'streaming-signed',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': 'streaming-signed-trailer',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': 'streaming-unsigned-trailer',
};

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
