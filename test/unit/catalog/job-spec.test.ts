/**
 * The job a dataset runs, resolved against the model catalog before anything is submitted: one
 * group per customization type, and the refusals of the issue's acceptance (a model outside the
 * stack's Region, a hyper-parameter of another family, a distillation without a teacher).
 */
import { describe, expect, it } from '@jest/globals';
import {
  catalog,
  findModel,
  type HyperParameterSet,
  type ParameterSpec,
} from '../../../functions/shared/catalog';
import {
  customizableIn,
  hyperParameterProblems,
  type JobDefaults,
  JobSpecError,
  LAMBDA_ARN,
  parameterProblem,
  resolveJobSpec,
} from '../../../functions/shared/catalog/job-spec';
import type { DatasetOptions } from '../../../functions/shared/types';

const GRADER = 'arn:aws:lambda:us-east-1:000000000000:function:reward-exact-match';

function defaults(over: Partial<JobDefaults> = {}): JobDefaults {
  return {
    region: 'us-east-1',
    baseModelId: 'amazon.nova-micro-v1:0:128k',
    customizationType: 'FINE_TUNING',
    hyperParameters: {},
    rftGraderLambdaArns: [GRADER],
    deploy: 'none',
    provisionedModelUnits: 1,
    ...over,
  };
}

/** The problems JobSpecError lists for the job, or none when the job is valid. */
function problemsOrNone(dataset: DatasetOptions, d = defaults()): string[] {
  try {
    resolveJobSpec(dataset, d);
    return [];
  } catch (err) {
    if (err instanceof JobSpecError) return err.problems;
    throw err;
  }
}

function problemsOf(dataset: DatasetOptions, d = defaults()): string[] {
  const problems = problemsOrNone(dataset, d);
  if (problems.length === 0) throw new Error('expected the job to be refused');
  return problems;
}

describe('FINE_TUNING', () => {
  it('with no sidecar, trains the default Nova Micro with the catalog defaults of the Nova family', () => {
    const spec = resolveJobSpec({}, defaults());
    expect(spec).toMatchObject({
      baseModelId: 'amazon.nova-micro-v1:0:128k',
      customizationType: 'FINE_TUNING',
      format: 'bedrock-conversation-2024',
      hyperParameters: { epochCount: '2', learningRate: '0.00001', learningRateWarmupSteps: '10' },
      deploy: { mode: 'none' },
    });
    expect(spec.customizationConfig).toBeUndefined();
  });

  it('accepts a Nova Lite sidecar in us-east-1 (by its on-demand id too) and merges its values', () => {
    const spec = resolveJobSpec(
      { baseModelId: 'amazon.nova-lite-v1:0', hyperParameters: { epochCount: '3' } },
      defaults(),
    );
    expect(spec.baseModelId).toBe('amazon.nova-lite-v1:0:300k');
    expect(spec.hyperParameters).toEqual({
      epochCount: '3',
      learningRate: '0.00001',
      learningRateWarmupSteps: '10',
    });
  });

  it('refuses Claude 3 Haiku in us-east-1, naming us-west-2 and the models that do train here', () => {
    const [problem] = problemsOf({ baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k' });
    expect(problem).toMatch(/only in us-west-2, and this stack runs in us-east-1/);
    expect(problem).toMatch(/deploy TuneVault in us-west-2/);
    expect(problem).toMatch(/the sidecar field baseModelId/);
    expect(problem).toContain('amazon.nova-micro-v1:0:128k (Nova Micro)');
  });

  it('accepts Claude 3 Haiku in a us-west-2 stack with the Claude defaults', () => {
    const spec = resolveJobSpec(
      { baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k' },
      defaults({ region: 'us-west-2' }),
    );
    expect(spec.format).toBe('claude-messages');
    expect(spec.hyperParameters).toMatchObject({ batchSize: '32', learningRateMultiplier: '1' });
  });

  it('refuses a Titan hyper-parameter in a Nova sidecar, naming the allowed ones', () => {
    const problems = problemsOf({ hyperParameters: { batchSize: '1', epochCount: '2' } });
    expect(problems).toEqual([
      expect.stringMatching(
        /hyperParameters\.batchSize is not a hyper-parameter of Nova Micro \(FINE_TUNING\): the allowed ones are epochCount, learningRate, learningRateWarmupSteps/,
      ),
    ]);
  });

  it('refuses values outside the documented range and non-integers', () => {
    const problems = problemsOf({ hyperParameters: { epochCount: '9', learningRateWarmupSteps: '1.5' } });
    expect(problems).toEqual([
      "hyperParameters.epochCount '9' must be between 1 and 5 for Nova Micro (FINE_TUNING)",
      "hyperParameters.learningRateWarmupSteps '1.5' must be an integer for Nova Micro (FINE_TUNING)",
    ]);
  });

  it("applies the stage's hyper-parameters to its own family only: a sidecar for another family replaces them", () => {
    const d = defaults({ region: 'us-west-2', baseModelId: 'meta.llama3-1-8b-instruct-v1:0:128k' });
    d.hyperParameters = { learningRate: '0.00002' };
    expect(resolveJobSpec({}, d).hyperParameters).toEqual({
      epochCount: '5',
      batchSize: '1',
      learningRate: '0.00002',
    });
    const claude = resolveJobSpec({ baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k' }, d);
    expect(claude.hyperParameters).not.toHaveProperty('learningRate');
    expect(claude.hyperParameters).toHaveProperty('learningRateMultiplier', '1');
  });

  it('names the stage parameter when the stage configuration is the problem', () => {
    const [problem] = problemsOf({}, defaults({ baseModelId: 'amazon.titan-text-express-v1' }));
    expect(problem).toMatch(/Titan Text G1 - Express does not support customizationType FINE_TUNING/);
    expect(problem).toMatch(/the stage parameter customizationType/);
  });

  it('refuses models outside the catalog and image models, listing the choices', () => {
    expect(problemsOf({ baseModelId: 'cohere.command-text-v14' })[0]).toMatch(
      /not in TuneVault's model catalog: set the sidecar field baseModelId to a model customizable with FINE_TUNING in us-east-1: .*Nova Micro/,
    );
    expect(problemsOf({ baseModelId: 'amazon.nova-canvas-v1:0' })[0]).toMatch(/image generation model/);
  });

  it('refuses a customizationConfig a fine-tuning job does not take', () => {
    expect(
      problemsOf({
        customizationConfig: {
          distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
        },
      })[0],
    ).toMatch(/only for DISTILLATION and REINFORCEMENT_FINE_TUNING, and this job is FINE_TUNING/);
  });
});

describe('DISTILLATION', () => {
  const teacher = {
    distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
  };

  it('carries a Nova Pro teacher for a Nova Micro student, with the prompts format and its 15K limit', () => {
    const spec = resolveJobSpec(
      { customizationType: 'DISTILLATION', customizationConfig: teacher },
      defaults(),
    );
    expect(spec).toMatchObject({
      customizationType: 'DISTILLATION',
      format: 'conversation-prompts',
      limits: { minRecords: 100, maxRecords: 15_000 },
      hyperParameters: {},
      customizationConfig: teacher,
    });
  });

  it('accepts the teacher by its cross-Region inference profile', () => {
    const viaProfile = {
      distillationConfig: {
        teacherModelConfig: {
          teacherModelIdentifier: 'us.amazon.nova-pro-v1:0',
          maxResponseLengthForInference: 1000,
        },
      },
    };
    expect(
      resolveJobSpec({ customizationType: 'DISTILLATION', customizationConfig: viaProfile }, defaults())
        .customizationConfig,
    ).toEqual(viaProfile);
  });

  it('refuses a distillation without a teacher, naming the teachers of the student', () => {
    expect(problemsOf({ customizationType: 'DISTILLATION' })).toEqual([
      expect.stringMatching(
        /DISTILLATION needs a teacher: set the sidecar field customizationConfig\.distillationConfig\.teacherModelConfig\.teacherModelIdentifier to a teacher of Nova Micro: amazon\.nova-pro-v1:0 \(Nova Pro\), amazon\.nova-premier-v1:0 \(Nova Premier\)/,
      ),
    ]);
  });

  it('refuses a teacher that is not paired with the student, and hyper-parameters it does not take', () => {
    const problems = problemsOf({
      baseModelId: 'amazon.nova-pro-v1:0:300k',
      customizationType: 'DISTILLATION',
      customizationConfig: teacher,
      hyperParameters: { epochCount: '2' },
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /hyperParameters\.epochCount: Nova Pro \(DISTILLATION\) takes no hyper-parameters/,
      ),
      expect.stringMatching(
        /'amazon\.nova-pro-v1:0' is not a teacher of Nova Pro.*amazon\.nova-premier-v1:0/,
      ),
    ]);
  });

  it('refuses both union members at once', () => {
    expect(
      problemsOf({
        customizationType: 'DISTILLATION',
        customizationConfig: {
          ...teacher,
          rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER } } },
        },
      })[0],
    ).toMatch(/CustomizationConfig is a union, set exactly one/);
  });
});

describe('REINFORCEMENT_FINE_TUNING', () => {
  const rft = (lambdaArn: string, hyperParameters?: Record<string, string | number>) => ({
    baseModelId: 'amazon.nova-2-lite-v1:0:256k',
    customizationType: 'REINFORCEMENT_FINE_TUNING' as const,
    customizationConfig: {
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn } },
        ...(hyperParameters ? { hyperParameters } : {}),
      },
    },
  });

  it('takes the grader the stage allows, with typed RFT hyper-parameters', () => {
    const spec = resolveJobSpec(rft(GRADER, { epochCount: '3', reasoningEffort: 'low' }), defaults());
    expect(spec).toMatchObject({
      format: 'rft-chat',
      hyperParameters: {},
      customizationConfig: {
        rftConfig: {
          graderConfig: { lambdaGrader: { lambdaArn: GRADER } },
          hyperParameters: { epochCount: 3, reasoningEffort: 'low' },
        },
      },
    });
  });

  it('refuses a grader the Bedrock role may not invoke, naming the stage parameter', () => {
    const other = 'arn:aws:lambda:us-east-1:000000000000:function:someone-elses';
    expect(problemsOf(rft(other))).toEqual([
      expect.stringMatching(/add it to the stage parameter rftGraderLambdaArns/),
    ]);
  });

  it('refuses what is not a Lambda ARN, a missing grader, and hyper-parameters out of range', () => {
    expect(problemsOf(rft('reward-exact-match'))[0]).toMatch(/is not a Lambda function ARN/);
    expect(
      problemsOf({
        baseModelId: 'amazon.nova-2-lite-v1:0:256k',
        customizationType: 'REINFORCEMENT_FINE_TUNING',
      })[0],
    ).toMatch(
      /needs a grader: set the sidecar field customizationConfig\.rftConfig\.graderConfig\.lambdaGrader\.lambdaArn/,
    );
    expect(problemsOf(rft(GRADER, { batchSize: 8, reasoningEffort: 'max' }))).toEqual([
      "customizationConfig.rftConfig.hyperParameters.batchSize '8' must be between 16 and 512 for Nova 2 Lite (REINFORCEMENT_FINE_TUNING)",
      "customizationConfig.rftConfig.hyperParameters.reasoningEffort 'max' must be one of low, medium, high for Nova 2 Lite (REINFORCEMENT_FINE_TUNING)",
    ]);
  });

  it('sends top-level hyper-parameters nowhere: they belong in rftConfig', () => {
    expect(problemsOf({ ...rft(GRADER), hyperParameters: { epochCount: '2' } })[0]).toMatch(
      /takes its hyper-parameters in the sidecar field customizationConfig\.rftConfig\.hyperParameters/,
    );
  });

  it('refuses RFT on a model that does not support it, naming the one that does', () => {
    expect(problemsOf({ customizationType: 'REINFORCEMENT_FINE_TUNING' })[0]).toMatch(
      /Nova Micro does not support customizationType REINFORCEMENT_FINE_TUNING .* amazon\.nova-2-lite-v1:0:256k \(Nova 2 Lite\)/,
    );
  });
});

describe('CONTINUED_PRE_TRAINING', () => {
  it('trains Titan Text G1 - Express on {"input"} records with the Titan defaults', () => {
    const spec = resolveJobSpec(
      { baseModelId: 'amazon.titan-text-express-v1', customizationType: 'CONTINUED_PRE_TRAINING' },
      defaults(),
    );
    expect(spec).toMatchObject({
      baseModelId: 'amazon.titan-text-express-v1:0:8k',
      format: 'continued-pretraining',
      hyperParameters: {
        epochCount: '5',
        batchSize: '1',
        learningRate: '0.00001',
        learningRateWarmupSteps: '5',
      },
    });
  });
});

describe('vpcConfig and deploy', () => {
  const vpc = { subnetIds: ['subnet-0a1b2c'], securityGroupIds: ['sg-0a1b2c'] };

  it('passes the stage VPC to every job; a sidecar may pick only from it', () => {
    expect(resolveJobSpec({}, defaults({ vpc })).vpcConfig).toEqual(vpc);
    expect(
      problemsOf(
        { vpcConfig: { subnetIds: ['subnet-other'], securityGroupIds: ['sg-0a1b2c'] } },
        defaults({ vpc }),
      )[0],
    ).toMatch(
      /names subnet-other, which the stage parameters vpcSubnetIds \/ vpcSecurityGroupIds do not list/,
    );
  });

  it('deploys on demand only where Bedrock does, and provisions only with an expiry', () => {
    expect(resolveJobSpec({ deploy: 'on-demand' }, defaults()).deploy).toEqual({ mode: 'on-demand' });
    expect(
      problemsOf(
        { baseModelId: 'meta.llama3-1-8b-instruct-v1:0:128k', deploy: 'on-demand' },
        defaults({ region: 'us-west-2' }),
      )[0],
    ).toMatch(/does not deploy custom Llama 3\.1 8B Instruct models on demand in us-west-2/);
    expect(problemsOf({ deploy: 'provisioned' })[0]).toMatch(
      /needs an expiry: set the sidecar field provisioned\.expiresInHours/,
    );
    expect(
      resolveJobSpec({ deploy: 'provisioned', provisioned: { expiresInHours: 4 } }, defaults()).deploy,
    ).toEqual({
      mode: 'provisioned',
      modelUnits: 1,
      expiresInHours: 4,
    });
  });
});

describe('hyper-parameter values against their catalog spec', () => {
  it.each([
    [{ type: 'enum', values: ['a', 'b'] }, 'b', undefined],
    [{ type: 'enum', values: ['a', 'b'] }, 'c', 'must be one of a, b'],
    [{ type: 'integer', min: 1, max: 5 }, ' 3 ', undefined],
    [{ type: 'integer', min: 1, max: 5 }, '', 'must be a number'],
    [{ type: 'integer', min: 1, max: 5 }, 'two', 'must be a number'],
    [{ type: 'integer', min: 1, max: 5 }, 'Infinity', 'must be a number'],
    [{ type: 'integer', min: 1, max: 5 }, '2.5', 'must be an integer'],
    [{ type: 'float', min: 1, max: 5 }, '2.5', undefined],
    [{ type: 'integer', min: 1, max: 5 }, 1, undefined],
    [{ type: 'integer', min: 1, max: 5 }, 5, undefined],
    [{ type: 'integer', min: 1, max: 5 }, 0, 'must be between 1 and 5'],
    [{ type: 'integer', min: 1, max: 5 }, 6, 'must be between 1 and 5'],
    [{ type: 'float', min: 0.5 }, 0.4, 'must be at least 0.5'],
    [{ type: 'float', min: 0.5 }, 1e9, undefined],
    [{ type: 'float', max: 0.5 }, 0.6, 'must be at most 0.5'],
    [{ type: 'float', max: 0.5 }, -1e9, undefined],
  ] as const)('spec %o, value %p: %s', (spec, value, problem) => {
    expect(parameterProblem(value, spec as ParameterSpec)).toBe(problem);
  });

  it('names an unknown parameter with the allowed ones and the source, a bad value with its reason, and a missing required one', () => {
    const set = {
      source: 'hp-nova',
      parameters: {
        epochCount: { type: 'integer', min: 1, max: 5, required: true },
        mode: { type: 'enum', values: ['x'] },
      },
    } as HyperParameterSet;
    expect(hyperParameterProblems({ epochs: '2', mode: 'y' }, set, 'Nova Micro', 'hyperParameters')).toEqual([
      `hyperParameters.epochs is not a hyper-parameter of Nova Micro: the allowed ones are epochCount, mode (${catalog.sources['hp-nova']?.url})`,
      "hyperParameters.mode 'y' must be one of x for Nova Micro",
      'hyperParameters.epochCount is required for Nova Micro',
    ]);
    expect(
      hyperParameterProblems({ epochCount: 2, mode: 'x' }, set, 'Nova Micro', 'hyperParameters'),
    ).toEqual([]);
    expect(
      hyperParameterProblems({ a: '1' }, { source: 'no-such', parameters: {} }, 'Titan', 'hyperParameters'),
    ).toEqual([
      "hyperParameters.a: Titan takes no hyper-parameters in TuneVault's catalog (none documented); remove hyperParameters",
    ]);
    expect(
      hyperParameterProblems(
        { x: '1' },
        { source: 'no-such', parameters: { y: { type: 'float' } } },
        'Titan',
        'hyperParameters',
      ),
    ).toEqual(['hyperParameters.x is not a hyper-parameter of Titan: the allowed ones are y (no-such)']);
  });
});

describe('vpcConfig ids', () => {
  it('refuses an id that is not a subnet or security group id, naming it', () => {
    const problems = problemsOf(
      {},
      defaults({
        vpc: { subnetIds: ['subnet-0abc', 'subnet 1'], securityGroupIds: ['sg-'.padEnd(33, 'a')] },
      }),
    );
    expect(problems).toEqual([
      "vpcConfig: 'subnet 1' is not a subnet or security group id ([-0-9a-zA-Z]{1,32})",
      `vpcConfig: '${'sg-'.padEnd(33, 'a')}' is not a subnet or security group id ([-0-9a-zA-Z]{1,32})`,
    ]);
  });
});

describe('customizableIn', () => {
  it('lists the supported models with a customization type in the Region, each with its types', () => {
    const here = customizableIn('us-east-1');
    expect(here).toContainEqual({
      model: findModel('amazon.nova-micro-v1:0:128k'),
      types: ['FINE_TUNING', 'DISTILLATION'],
    });
    expect(here.every(({ model, types }) => model.unsupported === undefined && types.length > 0)).toBe(true);
    expect(customizableIn('xx-nowhere-1')).toEqual([]);
  });
});

/**
 * Each refusal as the dataset's owner reads it: the whole message, naming where the bad setting
 * came from (the sidecar field or the stage parameter) and the fix.
 */
describe('whole refusal messages', () => {
  const NOVA_2_LITE = 'amazon.nova-2-lite-v1:0:256k';
  const rft = (over: Partial<DatasetOptions> = {}): DatasetOptions => ({
    baseModelId: NOVA_2_LITE,
    customizationType: 'REINFORCEMENT_FINE_TUNING',
    ...over,
  });
  const grader = (lambdaArn: string) => ({ rftConfig: { graderConfig: { lambdaGrader: { lambdaArn } } } });

  it('a model outside the catalog, set by the stage, with the models that train in the Region', () => {
    expect(problemsOf({}, defaults({ baseModelId: 'acme.unknown-v1' }))).toEqual([
      "baseModelId 'acme.unknown-v1' is not in TuneVault's model catalog: set the stage parameter baseModelId to a model customizable with FINE_TUNING in us-east-1: amazon.nova-micro-v1:0:128k (Nova Micro), amazon.nova-lite-v1:0:300k (Nova Lite), amazon.nova-pro-v1:0:300k (Nova Pro), amazon.nova-2-lite-v1:0:256k (Nova 2 Lite)",
    ]);
  });

  it('in a Region where no model trains, says so instead of listing none', () => {
    expect(problemsOf({ baseModelId: 'acme.unknown-v1' }, defaults({ region: 'ap-south-2' }))).toEqual([
      "baseModelId 'acme.unknown-v1' is not in TuneVault's model catalog: set the sidecar field baseModelId to a model customizable with FINE_TUNING in ap-south-2: none (no model supports FINE_TUNING in ap-south-2)",
    ]);
    expect(problemsOf({}, defaults({ region: 'ap-south-2' }))).toEqual([
      'Nova Micro (amazon.nova-micro-v1:0:128k) can be customized with FINE_TUNING only in us-east-1, and this stack runs in ap-south-2: deploy TuneVault in us-east-1 (serverless deploy --region us-east-1), or set the stage parameter baseModelId to a model customizable in ap-south-2: none',
    ]);
  });

  it('a customization type the model lacks, named as the stage parameter or as the sidecar field', () => {
    const tail =
      ' to one of those, or the stage parameter baseModelId to a model that supports CONTINUED_PRE_TRAINING in us-east-1: amazon.titan-text-express-v1:0:8k (Titan Text G1 - Express)';
    const head =
      'Nova Micro does not support customizationType CONTINUED_PRE_TRAINING (it supports FINE_TUNING, DISTILLATION): set ';
    expect(problemsOf({}, defaults({ customizationType: 'CONTINUED_PRE_TRAINING' }))).toEqual([
      `${head}the stage parameter customizationType${tail}`,
    ]);
    expect(problemsOf({ customizationType: 'CONTINUED_PRE_TRAINING' })).toEqual([
      `${head}the sidecar field customizationType${tail}`,
    ]);
  });

  it("checks the stage's own hyper-parameters on a job of its model family", () => {
    expect(problemsOf({}, defaults({ hyperParameters: { epochCount: '99' } }))).toEqual([
      "the stage parameter hyperParameters.epochCount '99' must be between 1 and 5 for Nova Micro (FINE_TUNING)",
    ]);
  });

  it('an RFT job without a grader: names the graders the stack allows, or the stage parameter to list one in', () => {
    const head =
      'customizationType REINFORCEMENT_FINE_TUNING needs a grader: set the sidecar field customizationConfig.rftConfig.graderConfig.lambdaGrader.lambdaArn to your reward function';
    expect(problemsOf(rft())).toEqual([`${head} (this stack lets Bedrock invoke ${GRADER})`]);
    expect(problemsOf(rft(), defaults({ rftGraderLambdaArns: [] }))).toEqual([
      `${head}, and list it in the stage parameter rftGraderLambdaArns`,
    ]);
  });

  it('an RFT grader in another Region than the job', () => {
    const west = 'arn:aws:lambda:us-west-2:000000000000:function:r';
    expect(
      problemsOf(rft({ customizationConfig: grader(west) }), defaults({ rftGraderLambdaArns: [west] })),
    ).toEqual([
      `the grader ${west} is not in us-east-1, where the job runs: use a reward function in us-east-1`,
    ]);
  });

  it('a stage VPC with security groups but no subnet', () => {
    expect(problemsOf({}, defaults({ vpc: { subnetIds: [], securityGroupIds: ['sg-1'] } }))).toEqual([
      'vpcConfig needs both subnets and security groups (botocore VpcConfig requires both): set the stage parameters vpcSubnetIds and vpcSecurityGroupIds together',
    ]);
  });

  it('a stage VPC with subnets but no security group', () => {
    expect(problemsOf({}, defaults({ vpc: { subnetIds: ['subnet-1'], securityGroupIds: [] } }))).toEqual([
      'vpcConfig needs both subnets and security groups (botocore VpcConfig requires both): set the stage parameters vpcSubnetIds and vpcSecurityGroupIds together',
    ]);
  });

  it('a sidecar VPC naming exactly the subnets and groups the stage does not list', () => {
    const stage = defaults({ vpc: { subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-1'] } });
    expect(
      problemsOf(
        { vpcConfig: { subnetIds: ['subnet-a', 'subnet-c'], securityGroupIds: ['sg-1', 'sg-2'] } },
        stage,
      ),
    ).toEqual([
      'the sidecar field vpcConfig names subnet-c, sg-2, which the stage parameters vpcSubnetIds / vpcSecurityGroupIds do not list: add them there and redeploy (they scope the EC2 network-interface permissions of the Bedrock role)',
    ]);
    expect(
      resolveJobSpec({ vpcConfig: { subnetIds: ['subnet-b'], securityGroupIds: ['sg-1'] } }, stage).vpcConfig,
    ).toEqual({
      subnetIds: ['subnet-b'],
      securityGroupIds: ['sg-1'],
    });
  });

  it('an on-demand deployment where Bedrock has none, set by the stage or by the sidecar', () => {
    const claude = defaults({
      region: 'us-west-2',
      baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k',
      deploy: 'on-demand',
    });
    expect(problemsOf({}, claude)).toEqual([
      "the stage parameter deploy 'on-demand': Bedrock does not deploy custom Claude 3 Haiku models on demand in us-west-2 (it does for no model there): set it to 'none' or 'provisioned'",
    ]);
    expect(problemsOf({ deploy: 'on-demand', baseModelId: NOVA_2_LITE })).toEqual([
      "the sidecar field deploy 'on-demand': Bedrock does not deploy custom Nova 2 Lite models on demand in us-east-1 (it does for Nova Micro, Nova Lite, Nova Pro there): set it to 'none' or 'provisioned'",
    ]);
  });

  it('JobSpecError is named and its message joins every problem', () => {
    try {
      resolveJobSpec(
        { customizationType: 'CONTINUED_PRE_TRAINING', deploy: 'provisioned' },
        defaults({ region: 'ap-south-2' }),
      );
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(JobSpecError);
      expect((err as JobSpecError).name).toBe('JobSpecError');
      expect((err as JobSpecError).message).toBe((err as JobSpecError).problems.join('; '));
    }
    const two = new JobSpecError(['first', 'second']);
    expect(two.message).toBe('first; second');
  });
});

describe('what a valid job carries, exactly', () => {
  it('an RFT job with empty sidecar hyper-parameters is accepted and sends no hyperParameters key', () => {
    const spec = resolveJobSpec(
      {
        baseModelId: 'amazon.nova-2-lite-v1:0:256k',
        customizationType: 'REINFORCEMENT_FINE_TUNING',
        hyperParameters: {},
        customizationConfig: {
          distillationConfig: undefined,
          rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER } } },
        },
      },
      defaults(),
    );
    expect(spec.customizationConfig).toStrictEqual({
      rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: GRADER } } },
    });
    expect(spec.hyperParameters).toStrictEqual({});
  });

  it('a distillation teacher without a response length sends no maxResponseLengthForInference key', () => {
    const spec = resolveJobSpec(
      {
        customizationType: 'DISTILLATION',
        customizationConfig: {
          distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
        },
      },
      defaults(),
    );
    expect(spec.customizationConfig).toStrictEqual({
      distillationConfig: { teacherModelConfig: { teacherModelIdentifier: 'amazon.nova-pro-v1:0' } },
    });
  });

  it('a grader ARN of 512 characters is taken, 513 is refused (botocore LambdaArn max 512)', () => {
    const prefix = 'arn:aws:lambda:us-east-1:000000000000:function:';
    const at = (n: number) => `${prefix}${'f'.repeat(n - prefix.length)}`;
    const rftWith = (arn: string) =>
      problemsOrNone(
        {
          baseModelId: 'amazon.nova-2-lite-v1:0:256k',
          customizationType: 'REINFORCEMENT_FINE_TUNING',
          customizationConfig: { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: arn } } } },
        },
        defaults({ rftGraderLambdaArns: [arn] }),
      );
    expect(rftWith(at(512))).toEqual([]);
    expect(rftWith(at(513))).toEqual([expect.stringContaining('is not a Lambda function ARN')]);
  });
});

describe("Bedrock's LambdaArn pattern (botocore bedrock 2023-04-20), whole ARNs only", () => {
  it.each([
    'arn:aws:lambda:us-east-1:000000000000:function:reward',
    'arn:aws-us-gov:lambda:us-gov-west-1:000000000000:function:reward',
    'arn::lambda:us-east-1:000000000000:function:reward',
    'arn:aws:lambda:us-east-1:000000000000:function:reward:prod',
    'arn:aws:lambda:us-east-1:000000000000:function:reward:1',
    'arn:aws:lambda:us-east-1:000000000000:function:reward:$LATEST',
  ])('takes %s', (arn) => {
    expect(LAMBDA_ARN.test(arn)).toBe(true);
  });

  it.each([
    'xarn:aws:lambda:us-east-1:000000000000:function:reward',
    'arn:aws:lambda:us-east-1:000000000000:function:reward!',
    'arn:aws:lambda:us-east-1:000000000000:function:reward:prod!',
  ])('refuses %s', (arn) => {
    expect(LAMBDA_ARN.test(arn)).toBe(false);
  });
});

describe('parameterProblem on blank text', () => {
  it('refuses a value of spaces as not a number (Number would read it as 0)', () => {
    expect(parameterProblem('   ', { type: 'integer', min: 0, max: 5 } as ParameterSpec)).toBe(
      'must be a number',
    );
  });
});
