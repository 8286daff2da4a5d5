/**
 * The Bedrock role's VPC statements (resources/bedrock-role.js) against what the CDK's
 * BedrockCreateModelCustomizationJob task grants for vpcConfig (aws-cdk-lib
 * aws-stepfunctions-tasks/lib/bedrock/create-model-customization-job.ts, read 2026-12-06).
 */
import { describe, expect, it } from '@jest/globals';

const { vpcPolicy, vpcStatements } = require('../../resources/bedrock-role.js') as {
  vpcPolicy: (o: { resolveVariable?: (v: string) => Promise<string> }) => Promise<{ Statement: unknown[] }>;
  vpcStatements: (subnets: string[], groups: string[]) => Array<Record<string, unknown>>;
};

// CloudFormation Fn::Sub placeholders, spelled out as the CDK formats its ARNs.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders, not JS templates
const AWS_VARS = ['${AWS::Partition}', '${AWS::Region}', '${AWS::AccountId}'];
const sub = (service: string, resource: string) => ({
  'Fn::Sub': `arn:${AWS_VARS[0]}:${service}:${AWS_VARS[1]}:${AWS_VARS[2]}:${resource}`,
});
const JOB = sub('bedrock', 'model-customization-job/*');
const ENI = sub('ec2', 'network-interface/*');
const SUBNET = sub('ec2', 'subnet/subnet-0a1b');
const GROUP = sub('ec2', 'security-group/sg-0a1b');

describe('the Bedrock role for vpcConfig', () => {
  it('grants what the CDK task grants, scoped to the stage subnets and security groups', () => {
    const strip = (s: Record<string, unknown>) => {
      const { Sid: _sid, ...rest } = s;
      return rest;
    };
    expect(vpcStatements(['subnet-0a1b'], ['sg-0a1b']).map(strip)).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: ENI,
        Condition: {
          StringEquals: { 'aws:RequestTag/BedrockManaged': ['true'] },
          ArnEquals: { 'aws:RequestTag/BedrockModelCustomizationJobArn': [JOB] },
        },
      },
      { Effect: 'Allow', Action: 'ec2:CreateNetworkInterface', Resource: [GROUP, SUBNET] },
      {
        Effect: 'Allow',
        Action: [
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
        ],
        Resource: '*',
        Condition: {
          ArnEquals: { 'ec2:Subnet': [SUBNET], 'ec2:ResourceTag/BedrockModelCustomizationJobArn': [JOB] },
          StringEquals: { 'ec2:ResourceTag/BedrockManaged': 'true' },
        },
      },
      {
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: ENI,
        Condition: {
          StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface'] },
          'ForAllValues:StringEquals': {
            'aws:TagKeys': ['BedrockManaged', 'BedrockModelCustomizationJobArn'],
          },
        },
      },
    ]);
  });

  it('refuses subnets without security groups (botocore VpcConfig needs both)', async () => {
    const params: Record<string, string> = {
      'param:vpcSubnetIds': 'subnet-0a1b',
      'param:vpcSecurityGroupIds': '',
    };
    await expect(vpcPolicy({ resolveVariable: async (v) => params[v] ?? '' })).rejects.toThrow(/go together/);
  });
});
