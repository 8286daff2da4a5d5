/** The operations on aliases: CreateAlias, DeleteAlias, ListAliases. */
import { type Body, optionalString, requireString, validation } from '../../core/input';
import { AwsError } from '../../core/types';
import { epochSeconds, type KeyRecord, type KeyRing, page, requireNotPendingDeletion } from './model';

/** The characters an alias name may use (KMS API reference, CreateAlias AliasName). */
export const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

function validateAliasName(name: string): void {
  if (!name.startsWith('alias/')) {
    throw new AwsError(
      'ValidationException',
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
  }
  if (name.length > 256)
    throw validation('aliasName', name, 'Member must have length less than or equal to 256');
  if (!ALIAS_NAME.test(name)) {
    throw new AwsError('ValidationException', `${name} contains invalid characters for an alias`);
  }
  if (name.startsWith('alias/aws/')) {
    // Real KMS answers with an authorization failure: the prefix is reserved for AWS managed keys.
    throw new AwsError(
      'NotAuthorizedException',
      `The alias/aws/ prefix is reserved for AWS managed keys: cannot create, update or delete ${name}`,
    );
  }
}

function aliasTarget(ring: KeyRing, targetKeyId: string): KeyRecord {
  if (targetKeyId.startsWith('alias/') || /^arn:aws:kms:[^:]*:[^:]*:alias\//.test(targetKeyId)) {
    throw new AwsError('ValidationException', 'TargetKeyId must be a key ID or key ARN, not an alias');
  }
  const key = ring.resolve(targetKeyId, false);
  if (key.keyManager === 'AWS') {
    throw new AwsError('NotAuthorizedException', `You cannot associate an alias with an AWS managed key`);
  }
  requireNotPendingDeletion(key);
  return key;
}

export function createAlias(ring: KeyRing, b: Body) {
  const name = requireString(b, 'AliasName');
  validateAliasName(name);
  const key = aliasTarget(ring, requireString(b, 'TargetKeyId'));
  if (ring.aliases.has(name)) {
    throw new AwsError(
      'AlreadyExistsException',
      `An alias with the name ${ring.aliasArn(name)} already exists`,
    );
  }
  const now = Date.now();
  ring.aliases.set(name, { name, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
  return {};
}

export function deleteAlias(ring: KeyRing, b: Body) {
  const name = requireString(b, 'AliasName');
  validateAliasName(name);
  if (!ring.aliases.delete(name))
    throw new AwsError('NotFoundException', `Alias ${ring.aliasArn(name)} is not found.`);
  return {};
}

export function listAliases(ring: KeyRing, b: Body) {
  const keyId = optionalString(b, 'KeyId');
  const target = keyId === undefined ? undefined : ring.resolve(keyId, false).keyId;
  const all = [...ring.aliases.values()]
    .filter((a) => target === undefined || a.targetKeyId === target)
    .sort((x, y) => (x.name < y.name ? -1 : 1))
    .map((a) => ({
      AliasName: a.name,
      AliasArn: ring.aliasArn(a.name),
      TargetKeyId: a.targetKeyId,
      CreationDate: epochSeconds(a.creationDate),
      LastUpdatedDate: epochSeconds(a.lastUpdatedDate),
    }));
  return page(all, b, 'Aliases');
}
