/** S3's error documents and the errors it answers with, worded as AWS words them. */
import { randomBytes } from 'node:crypto';
import { AwsError, type LocalResponse } from '../../core/types';
import { type XmlFields, xmlDocument } from './xml';

/** An S3 error that also sets response headers (e.g. `x-amz-delete-marker` on a NoSuchKey). */
export class S3Error extends AwsError {
  constructor(
    code: string,
    message: string,
    status: number,
    extra: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, status, extra);
  }
}

export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** Every S3 answer carries a request id pair; errors repeat them in the body. */
export function requestIdHeaders(requestId: string): Record<string, string> {
  return {
    'x-amz-request-id': requestId,
    'x-amz-id-2': randomBytes(48).toString('base64'),
    server: 'AmazonS3',
  };
}

export function s3ErrorResponse(error: AwsError): LocalResponse {
  const ids = requestIdHeaders(newRequestId());
  const fields: XmlFields = { Code: error.code, Message: error.message, ...error.extra };
  fields['RequestId'] = ids['x-amz-request-id'];
  fields['HostId'] = ids['x-amz-id-2'];
  return {
    status: error.status,
    headers: {
      ...ids,
      ...(error instanceof S3Error ? error.headers : {}),
      'content-type': 'application/xml',
    },
    body: xmlDocument('Error', fields, null),
  };
}

export const noSuchBucket = (bucket: string) =>
  new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });

export const noSuchKey = (key: string, headers: Record<string, string> = {}) =>
  new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }, headers);

export const noSuchVersion = (key: string, versionId: string) =>
  new AwsError('NoSuchVersion', 'The specified version does not exist.', 404, {
    Key: key,
    VersionId: versionId,
  });

export const noSuchUpload = (uploadId: string) =>
  new AwsError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
    { UploadId: uploadId },
  );

export const invalidArgument = (message: string, name?: string, value?: string) =>
  new AwsError(
    'InvalidArgument',
    message,
    400,
    name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
  );

export const invalidRequest = (message: string) => new AwsError('InvalidRequest', message, 400);

export const accessDenied = (message = 'Access Denied') => new AwsError('AccessDenied', message, 403);

export const notFoundConfiguration = (code: string, message: string, bucket: string) =>
  new AwsError(code, message, 404, { BucketName: bucket });

export const preconditionFailed = (condition: string) =>
  new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
    Condition: condition,
  });
