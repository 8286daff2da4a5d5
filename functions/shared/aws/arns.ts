/** ARNs taken apart by the SDK's own parser (a step needs, e.g., the partition it runs in). */
export { parse as parseArn } from '@aws-sdk/util-arn-parser';
