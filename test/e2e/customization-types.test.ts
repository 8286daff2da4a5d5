/**
 * Each customization type through the whole workflow on the embedded AWS (real state machine,
 * handlers, SDK over HTTP), and the refusals before submission the model catalog makes: the
 * acceptance of issue 13.
 */
import {
  GetCustomModelCommand,
  GetCustomModelDeploymentCommand,
  GetModelCustomizationJobCommand,
  ListProvisionedModelThroughputsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-bedrock';
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import { run as remediateCli } from '../../cli/commands/remediate';
import { field } from '../../cli/lib/run-view';
import { chat, DATA, type Harness, startHarness } from './support/embedded';

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');
const GRADER_NAME = 'tunevault-example-grader';
const GRADER = `arn:aws:lambda:us-east-1:000000000000:function:${GRADER_NAME}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ params: { rftGraderLambdaArns: GRADER } });
  // The example reward function, deployed as its own Lambda function (another stack's, in practice).
  h.aws.registerFunction(GRADER_NAME, 'examples/rft/grader.handler');
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const example = (file: string) => fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
const sidecarOf = (file: string) => JSON.parse(example(file)) as Record<string, unknown>;

async function jobOf(run: { state: Record<string, unknown> }) {
  return h.c.bedrock.send(
    new GetModelCustomizationJobCommand({ jobIdentifier: field(run.state, 'job', 'jobArn') }),
  );
}

async function tagsOf(bucket: string, key: string) {
  const out = await h.c.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key, t.Value]));
}

/** Drops a dataset whose sidecar the catalog refuses: no run starts, the object says why. */
async function dropRefused(name: string, body: string, sidecar: Record<string, unknown>) {
  const key = `${h.stack.trainingPrefix}${name}.jsonl`;
  await h.put(`${h.stack.trainingPrefix}${name}.job.json`, JSON.stringify(sidecar));
  const object = await h.put(key, body);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const tags = await tagsOf(object.bucket, key);
    if (tags['tunevault:status'] === 'rejected') {
      expect(() => h.aws.sfn.describeExecution(h.executionArnOf(object))).toThrow();
      expect(await h.jobsNamed(name.replace(/ /g, '-').slice(0, 12))).toEqual([]);
      return tags['tunevault:reason'] ?? '';
    }
    if (Date.now() > deadline) throw new Error(`${key} was not rejected: ${JSON.stringify(tags)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('FINE_TUNING', () => {
  it('with no sidecar, conversation-format data runs to a tagged Nova Micro model', async () => {
    const { run } = await h.drop('no sidecar', example('demo/support-chat.jsonl'));
    expect(run.status).toBe('SUCCEEDED');
    const job = await jobOf(run);
    expect(job).toMatchObject({
      customizationType: 'FINE_TUNING',
      baseModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k',
      hyperParameters: { epochCount: '2', learningRate: '0.00001', learningRateWarmupSteps: '10' },
    });
    const tags = await h.c.bedrock.send(
      new ListTagsForResourceCommand({ resourceARN: field(run.state, 'model', 'modelArn') }),
    );
    expect(tags.tags?.map((t) => t.key)).toEqual(
      expect.arrayContaining(['tunevault:source', 'tunevault:kms-key-arn']),
    );
  });

  it('a Nova Lite sidecar succeeds in us-east-1', async () => {
    const { run } = await h.drop('nova lite', DATA, {
      baseModelId: 'amazon.nova-lite-v1:0:300k',
      hyperParameters: { epochCount: 3 },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(await jobOf(run)).toMatchObject({
      baseModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0:300k',
      hyperParameters: { epochCount: '3', learningRate: '0.00001', learningRateWarmupSteps: '10' },
    });
  });

  it('Claude 3 Haiku in us-east-1 is refused before submission, naming us-west-2', async () => {
    const reason = await dropRefused('claude here', DATA, {
      baseModelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k',
    });
    expect(reason).toContain('us-west-2');
    expect(reason).toContain('Claude 3 Haiku');
  });

  it('a Titan hyper-parameter in a Nova sidecar is refused, naming the allowed ones', async () => {
    const reason = await dropRefused('titan hp on nova', DATA, { hyperParameters: { batchSize: '1' } });
    expect(reason).toContain('batchSize is not a hyper-parameter of Nova Micro');
    expect(reason).toContain('epochCount');
    expect(reason).toContain('learningRateWarmupSteps');
  });

  it('records in another format name the models that take it and the sidecar field to set', async () => {
    const promptCompletion = `${Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}` })).join('\n')}\n`;
    const { run } = await h.drop('prompt completion for nova', promptCompletion);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidTrainingDataError');
    expect(run.cause).toContain('These records are in the prompt/completion format');
    expect(run.cause).toContain(
      'meta.llama3-1-8b-instruct-v1:0:128k (Llama 3.1 8B Instruct, FINE_TUNING, us-west-2)',
    );
    expect(run.cause).toContain('set the sidecar field baseModelId');
  });
});

describe('DISTILLATION', () => {
  it('a Nova Pro teacher and a Nova Micro student: the job carries the teacher', async () => {
    const sidecar = sidecarOf('distillation/support-prompts.job.json');
    const { run } = await h.drop('distill', example('distillation/support-prompts.jsonl'), sidecar);
    expect(run.status).toBe('SUCCEEDED');
    const job = await jobOf(run);
    expect(job.customizationType).toBe('DISTILLATION');
    expect(job.customizationConfig).toEqual({
      distillationConfig: {
        teacherModelConfig: {
          teacherModelIdentifier: 'amazon.nova-pro-v1:0',
          maxResponseLengthForInference: 1000,
        },
      },
    });
    expect(job.baseModelArn).toBe('arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k');
  });

  it('without a teacher it is refused before submission', async () => {
    const reason = await dropRefused('distill no teacher', example('distillation/support-prompts.jsonl'), {
      customizationType: 'DISTILLATION',
    });
    expect(reason).toContain('DISTILLATION needs a teacher');
    expect(reason).toContain('teacherModelIdentifier');
  });
});

describe('REINFORCEMENT_FINE_TUNING', () => {
  it('the run calls its grader, as Bedrock would, and completes', async () => {
    const before = h.aws.lambda.invocations.filter((i) => i.functionName === GRADER_NAME).length;
    const sidecar = sidecarOf('rft/chargers.job.json');
    (
      sidecar.customizationConfig as { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: string } } } }
    ).rftConfig.graderConfig.lambdaGrader.lambdaArn = GRADER;
    const { run } = await h.drop('rft chargers', example('rft/chargers.jsonl'), sidecar);
    expect(run.status).toBe('SUCCEEDED');
    const job = await jobOf(run);
    expect(job.customizationType).toBe('REINFORCEMENT_FINE_TUNING');
    expect(job.customizationConfig).toEqual({
      rftConfig: {
        graderConfig: { lambdaGrader: { lambdaArn: GRADER } },
        hyperParameters: { epochCount: 2, batchSize: 16, reasoningEffort: 'low' },
      },
    });
    const calls = h.aws.lambda.invocations.filter((i) => i.functionName === GRADER_NAME);
    expect(calls.length - before).toBe(1);
    // The example grader rewards an answer holding the reference: the simulated model gets 2 of 3.
    expect(h.aws.bedrock.rewards(job.jobArn as string)).toMatchObject({
      graderArn: GRADER,
      ids: ['chargers-001', 'chargers-002', 'chargers-003'],
      scores: [1, 0, 1],
    });
  });

  it('without lambda:InvokeFunction on the Bedrock role, the grader is not reached: the job fails saying so', async () => {
    const bedrockRole = h.stack.invokeLocalEnv.TUNEVAULT_BEDROCK_ROLE_ARN as string;
    const sidecar = sidecarOf('rft/chargers.job.json');
    (
      sidecar.customizationConfig as { rftConfig: { graderConfig: { lambdaGrader: { lambdaArn: string } } } }
    ).rftConfig.graderConfig.lambdaGrader.lambdaArn = GRADER;
    const before = h.aws.lambda.invocations.filter((i) => i.functionName === GRADER_NAME).length;
    const undo = h.aws.iam.withoutAction(bedrockRole, 'lambda:InvokeFunction');
    let run: Awaited<ReturnType<Harness['drop']>>['run'];
    try {
      ({ run } = await h.drop('rft no invoke', example('rft/chargers.jsonl'), sidecar));
    } finally {
      undo();
    }
    expect(run.status).toBe('FAILED');
    const job = await jobOf(run);
    expect(job.status).toBe('Failed');
    expect(job.failureMessage).toContain(`could not invoke the reward function ${GRADER}`);
    expect(job.failureMessage).toContain('lambda:InvokeFunction');
    expect(h.aws.lambda.invocations.filter((i) => i.functionName === GRADER_NAME).length).toBe(before);
    const denial = h.aws.authorizer
      .recent({ deniedOnly: true })
      .filter((d) => d.action === 'lambda:InvokeFunction' && d.resource === GRADER)
      .at(-1);
    expect(denial?.principal).toMatch(/:assumed-role\/[^/]+\/BedrockModelCustomization$/);
  });

  it('a grader the stack does not let Bedrock invoke is refused before submission', async () => {
    const sidecar = sidecarOf('rft/chargers.job.json');
    const reason = await dropRefused('rft other grader', example('rft/chargers.jsonl'), sidecar);
    expect(reason).toContain('rftGraderLambdaArns');
  });
});

describe('CONTINUED_PRE_TRAINING', () => {
  it('{"input"} records are scanned and submitted', async () => {
    const { run } = await h.drop(
      'cpt notes',
      example('cpt/service-notes.jsonl'),
      sidecarOf('cpt/service-notes.job.json'),
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.state.scan).toMatchObject({ verdict: 'pass', records: 60 });
    expect(await jobOf(run)).toMatchObject({
      customizationType: 'CONTINUED_PRE_TRAINING',
      baseModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k',
    });
  });

  it('a secret in an {"input"} record is found: the data is blocked and no job runs', async () => {
    const leaky = `${example('cpt/service-notes.jsonl')}${JSON.stringify({ input: 'Deploy key AKIAZ7Q3XK2M4PLN8WRT, keep it safe.' })}\n`;
    const { run } = await h.drop('cpt leaky', leaky, sidecarOf('cpt/service-notes.job.json'));
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('SensitiveDataError');
    expect(run.cause).toContain('AWS_ACCESS_KEY_ID');
    expect(h.statesEntered(run)).not.toContain('SubmitCustomizationJob');
  });
});

describe('deploy', () => {
  it('on-demand: a tagged custom model deployment; remediation deletes it before the model', async () => {
    h.aws.authorizer.clear();
    const { run } = await h.drop('deploy on demand', DATA, { deploy: 'on-demand' });
    expect(run.status).toBe('SUCCEEDED');
    // Under IAM enforcement: finalize's statements are enough to deploy and tag.
    expect(h.aws.authorizer.recent({ deniedOnly: true }).filter((d) => !d.probe)).toEqual([]);
    const arn = field(run.state, 'model', 'deployment', 'arn') as string;
    expect(arn).toMatch(/:custom-model-deployment\/[a-z0-9]{12}$/);
    const deployment = await h.c.bedrock.send(
      new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn }),
    );
    const modelArn = field(run.state, 'model', 'modelArn') as string;
    expect(deployment.modelArn).toBe(modelArn);
    const tags = await h.c.bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn }));
    expect(tags.tags).toEqual(expect.arrayContaining([{ key: 'tunevault:deploy', value: 'on-demand' }]));

    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let code: number;
    try {
      code = await remediateCli([
        '--model',
        modelArn,
        '--reason',
        'wrong data',
        '--json',
        '--endpoint',
        h.aws.url,
      ]);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    await expect(
      h.c.bedrock.send(new GetCustomModelDeploymentCommand({ customModelDeploymentIdentifier: arn })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      h.c.bedrock.send(new GetCustomModelCommand({ modelIdentifier: modelArn })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('finalize without bedrock:CreateCustomModelDeployment: the run ends DeploymentError, the model is kept', async () => {
    const finalizeRole = h.stack.functions.find((f) => f.key === 'finalizeCustomModel')?.roleArn as string;
    const undo = h.aws.iam.withoutAction(finalizeRole, 'bedrock:CreateCustomModelDeployment');
    h.aws.authorizer.clear();
    let run: Awaited<ReturnType<Harness['drop']>>['run'];
    try {
      ({ run } = await h.drop('deploy denied', DATA, { deploy: 'on-demand' }));
    } finally {
      undo();
    }
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DeploymentError');
    expect(run.cause).toContain('AccessDeniedException');
    expect(run.cause).toContain('bedrock:CreateCustomModelDeployment');
    // The only refusal is the one made here: Remediate may look for the deployments to take down.
    const denied = h.aws.authorizer.recent({ deniedOnly: true }).filter((d) => !d.probe);
    expect([...new Set(denied.map((d) => d.action))]).toEqual(['bedrock:CreateCustomModelDeployment']);
    expect(h.aws.authorizer.recent().some((d) => d.action === 'bedrock:ListCustomModelDeployments')).toBe(
      true,
    );
    const modelArn = field(run.state, 'jobResult', 'outputModelArn') as string;
    const model = await h.c.bedrock.send(new GetCustomModelCommand({ modelIdentifier: modelArn }));
    expect(model.modelArn).toBe(modelArn);
  });

  it('provisioned only with an expiry, deleted by the scheduled cleanup once it has passed', async () => {
    const refused = await dropRefused('provisioned forever', DATA, { deploy: 'provisioned' });
    expect(refused).toContain('needs an expiry');

    // 2 seconds, so the cleanup that follows finds it expired.
    const { run } = await h.drop('provisioned briefly', DATA, {
      deploy: 'provisioned',
      provisioned: { expiresInHours: 2 / 3600 },
    });
    expect(run.status).toBe('SUCCEEDED');
    const arn = field(run.state, 'model', 'deployment', 'arn') as string;
    expect(arn).toMatch(/:provisioned-model\/[a-z0-9]{12}$/);
    const modelArn = field(run.state, 'model', 'modelArn') as string;
    const listed = () =>
      h.c.bedrock.send(new ListProvisionedModelThroughputsCommand({ modelArnEquals: modelArn }));
    expect((await listed()).provisionedModelSummaries).toHaveLength(1);

    // The stack's rate(15 minutes) rule, scaled as the harness scales time (a tick every 9 s).
    const expiredAt = Date.now() + 2_000;
    const deadline = Date.now() + 60_000;
    while ((await listed()).provisionedModelSummaries?.length !== 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    expect((await listed()).provisionedModelSummaries).toEqual([]);
    const ticks = h.aws.lambda.invocations.filter(
      (i) => i.functionName.endsWith('-expireDeployments') && i.startedAt >= expiredAt - 1_000,
    );
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.filter((i) => i.errorName !== undefined)).toEqual([]);
  }, 90_000);
});

describe('guard and job settings per format', () => {
  it('a validation file in the training format is judged against the same format', async () => {
    await h.put(
      'validation/nova validation.jsonl',
      `${JSON.stringify(chat('Customer: Hi?\nAgent:', ' Hello.'))}\n`,
    );
    const { run } = await h.drop('nova with validation', DATA, {
      validationKey: 'validation/nova validation.jsonl',
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(field(run.state, 'scan', 'validation', 'verdict')).toBe('pass');
  });
});
