// Statements of the Bedrock service role that depend on stage parameters which are lists, which
// CloudFormation cannot map over: built here at package time, like statemachines/loader.js.
// Plain CommonJS so serverless can load it with ${file(...)}.

const csv = (value) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const sub = (template) => ({ 'Fn::Sub': template });

/**
 * What a job with vpcConfig needs, as the CDK's BedrockCreateModelCustomizationJob task grants it
 * (aws-cdk-lib aws-stepfunctions-tasks, create-model-customization-job.ts): describe the network,
 * create an interface Bedrock tags as its own (BedrockManaged, BedrockModelCustomizationJobArn)
 * in the stage's subnets with its security groups, manage that interface only, tag only it.
 */
function vpcStatements(subnetIds, securityGroupIds) {
  const jobArn = sub('arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:model-customization-job/*');
  const subnetArn = (id) => sub(`arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:subnet/${id}`);
  const groupArn = (id) => sub(`arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:security-group/${id}`);
  const interfaces = sub('arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*');
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
  if ((subnetIds.length > 0) !== (securityGroupIds.length > 0)) {
    throw new Error('vpcSubnetIds and vpcSecurityGroupIds go together: set both or neither');
  }
  const statements = vpcStatements(subnetIds, securityGroupIds);
  return { Version: '2012-10-17', Statement: subnetIds.length > 0 ? statements : statements.slice(0, 1) };
}

module.exports = { vpcPolicy, vpcStatements };
