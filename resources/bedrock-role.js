// Statements of the Bedrock service role that depend on stage parameters which are lists, which
// CloudFormation cannot map over: built here at package time, like statemachines/loader.js.
// Plain CommonJS so serverless can load it with ${file(...)}.

const csv = (value) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const sub = (template) => ({ 'Fn::Sub': template });

/** An ARN in this stack's partition, Region and account, for Fn::Sub. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not a JS template
const ARN = 'arn:${AWS::Partition}:SERVICE:${AWS::Region}:${AWS::AccountId}:';
const arnIn = (service, resource) => sub(`${ARN.replace('SERVICE', service)}${resource}`);

/**
 * What a job with vpcConfig needs, as the CDK's BedrockCreateModelCustomizationJob task grants it
 * (aws-cdk-lib aws-stepfunctions-tasks, create-model-customization-job.ts): describe the network,
 * create an interface Bedrock tags as its own (BedrockManaged, BedrockModelCustomizationJobArn)
 * in the stage's subnets with its security groups, manage that interface only, tag only it.
 */
function vpcStatements(subnetIds, securityGroupIds) {
  const jobArn = arnIn('bedrock', 'model-customization-job/*');
  const subnetArn = (id) => arnIn('ec2', `subnet/${id}`);
  const groupArn = (id) => arnIn('ec2', `security-group/${id}`);
  const interfaces = arnIn('ec2', 'network-interface/*');
  return [
    {
      Sid: 'DescribeNetwork',
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
      Sid: 'CreateBedrockManagedInterface',
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterface',
      Resource: interfaces,
      Condition: {
        StringEquals: { 'aws:RequestTag/BedrockManaged': ['true'] },
        ArnEquals: { 'aws:RequestTag/BedrockModelCustomizationJobArn': [jobArn] },
      },
    },
    {
      Sid: 'CreateInterfaceInStageSubnets',
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterface',
      Resource: [...securityGroupIds.map(groupArn), ...subnetIds.map(subnetArn)],
    },
    {
      Sid: 'ManageBedrockManagedInterface',
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterfacePermission',
        'ec2:DeleteNetworkInterface',
        'ec2:DeleteNetworkInterfacePermission',
      ],
      Resource: '*',
      Condition: {
        ArnEquals: {
          'ec2:Subnet': subnetIds.map(subnetArn),
          'ec2:ResourceTag/BedrockModelCustomizationJobArn': [jobArn],
        },
        StringEquals: { 'ec2:ResourceTag/BedrockManaged': 'true' },
      },
    },
    {
      Sid: 'TagBedrockManagedInterface',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: interfaces,
      Condition: {
        StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface'] },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['BedrockManaged', 'BedrockModelCustomizationJobArn'] },
      },
    },
  ];
}

/**
 * The customization-vpc policy document of the Bedrock role for the stage's subnets and security
 * groups. serverless.yml attaches it only when the stage names them (condition HasVpcConfig);
 * without them this returns the describe statement alone, so the unused branch stays valid.
 */
async function vpcPolicy({ resolveVariable } = {}) {
  const param = async (name) => (resolveVariable ? resolveVariable(`param:${name}`) : '');
  const subnetIds = csv(await param('vpcSubnetIds'));
  const securityGroupIds = csv(await param('vpcSecurityGroupIds'));
  if (subnetIds.length > 0 !== securityGroupIds.length > 0) {
    throw new Error('vpcSubnetIds and vpcSecurityGroupIds go together: set both or neither');
  }
  const statements = vpcStatements(subnetIds, securityGroupIds);
  return { Version: '2012-10-17', Statement: subnetIds.length > 0 ? statements : statements.slice(0, 1) };
}

module.exports = { vpcPolicy, vpcStatements };
