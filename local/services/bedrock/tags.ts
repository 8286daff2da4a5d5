/**
 * TagResource and ListTagsForResource on jobs, custom models and deployments (the resource must
 * exist: ResourceNotFoundException otherwise). A resource holds at most MAX_TAGS tags
 * (TooManyTagsException, naming it in `resourceName`).
 */
import { type Body, requireString, validation } from '../../core/input';
import { AwsError } from '../../core/types';
import type { Deployments } from './deployments';
import type { BedrockResources } from './model';
import { MAX_TAGS, parseTags, type Tag } from './rest';

function taggable(resources: BedrockResources, deployments: Deployments, b: Body): string {
  const arn = requireString(b, 'resourceARN');
  const exists =
    resources.models.has(arn) ||
    deployments.has(arn) ||
    [...resources.jobs.values()].some((j) => j.jobArn === arn);
  if (!exists) throw new AwsError('ResourceNotFoundException', `Resource ${arn} was not found.`, 404);
  return arn;
}

export function tagResource(resources: BedrockResources, deployments: Deployments, b: Body): void {
  const arn = taggable(resources, deployments, b);
  if (b['tags'] === undefined) throw validation('tags', undefined, 'Member must not be null');
  const incoming = parseTags(b['tags'], 'tags');
  const current = (resources.tags.get(arn) ?? []).map((t) => ({ ...t }));
  for (const tag of incoming) {
    const existing = current.find((t) => t.key === tag.key);
    if (existing) existing.value = tag.value;
    else current.push(tag);
  }
  if (current.length > MAX_TAGS) {
    throw new AwsError('TooManyTagsException', `A resource can have at most ${MAX_TAGS} tags.`, 400, {
      resourceName: arn,
    });
  }
  resources.tags.set(arn, current);
}

export function listTags(resources: BedrockResources, deployments: Deployments, b: Body): { tags: Tag[] } {
  const arn = taggable(resources, deployments, b);
  return { tags: (resources.tags.get(arn) ?? []).map((t) => ({ ...t })) };
}
