/** Key policies: the ones KMS gives keys it creates, and the checks PutKeyPolicy / CreateKey make. */
import { asRecord } from '../../core/input';
import { AwsError } from '../../core/types';

/** The policy of a key created without one: the account administers it through IAM. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

/** The policy of the AWS managed key of SERVICE: usable through that service only. */
export function awsManagedPolicy(service: string, accountId: string, region: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: `auto-${service}-2`,
      Statement: [
        {
          Sid: `Allow access through ${service} for all principals in the account that are authorized to use it`,
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
          Resource: '*',
          Condition: {
            StringEquals: {
              'kms:CallerAccount': accountId,
              'kms:ViaService': `${service}.${region}.amazonaws.com`,
            },
          },
        },
        {
          Sid: 'Allow direct access to key metadata to the account',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}

function malformed(message: string): AwsError {
  return new AwsError('MalformedPolicyDocumentException', message);
}

export function validatePolicy(policy: string): void {
  if (policy.length > 32_768) throw malformed('The key policy exceeds the 32 KB limit');
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw malformed('The key policy is not valid JSON');
  }
  const document = asRecord(doc);
  if (!document) throw malformed('The key policy must be a JSON object');
  const statement = document['Statement'];
  const statements = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  if (statements.length === 0) throw malformed('The key policy has no Statement');
  for (const s of statements) {
    if (typeof s !== 'object' || s === null) throw malformed('Each policy statement must be a JSON object');
    const st = s as Record<string, unknown>;
    if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny')
      throw malformed('Each policy statement needs Effect Allow or Deny');
    if (st['Principal'] === undefined && st['NotPrincipal'] === undefined)
      throw malformed('Policy contains a statement with no principal (key policies must name a Principal)');
    if (st['Action'] === undefined && st['NotAction'] === undefined)
      throw malformed('Policy contains a statement with no Action');
  }
}
