/** The errors of SigV4 verification, worded per protocol: S3's XML codes or the JSON services'. */
import { AwsError } from '../types';

export type Protocol = 's3' | 'json' | 'rest-json';
/**
 * restJson services answer auth failures with 403 (Bedrock: "403 The security token included in the request
 * is invalid", anthropics/claude-code#2260; Lambda likewise); the awsJson ones (KMS, DynamoDB, Step Functions,
 * EventBridge) with 400 (aws/aws-sdk-js#254, boto/boto3#482).
 */
const REST_JSON_SERVICES = new Set(['bedrock', 'lambda']);

export function protocolOf(service: string): Protocol {
  if (service === 's3') return 's3';
  return REST_JSON_SERVICES.has(service) ? 'rest-json' : 'json';
}

export function jsonError(service: string, code: string, message: string): AwsError {
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
export function malformed(
  service: string,
  presigned: boolean,
  s3Message: string,
  jsonMessage: string,
): AwsError {
  if (protocolOf(service) !== 's3') return jsonError(service, 'IncompleteSignatureException', jsonMessage);
  return presigned
    ? new AwsError('AuthorizationQueryParametersError', s3Message, 400)
    : new AwsError(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; ${s3Message}`,
        400,
      );
}

export function unsupportedMechanism(service: string, authorization: string): AwsError {
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

export function signatureMismatch(
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

/** A missing or unreadable request date: S3's AccessDenied, the JSON services' IncompleteSignatureException. */
export function badDate(service: string, jsonMessage: string): AwsError {
  return protocolOf(service) === 's3'
    ? new AwsError('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header', 403)
    : jsonError(service, 'IncompleteSignatureException', jsonMessage);
}
