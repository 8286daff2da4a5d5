/**
 * The chunk and trailer signatures of S3's `aws-chunked` uploads (string to sign from
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
 * sigv4-streaming-trailers.html).
 */
import type { Authenticated } from '../sigv4';
import { AwsError } from '../types';
import { EMPTY_SHA256, hmac, sameSignature, sha256Hex } from './crypto';
import { authErrorFor, protocolOf } from './errors';

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
