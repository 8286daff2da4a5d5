/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: the mutations are source text, `${…}` included */
/**
 * Hand-made mutations that once passed every test (issue 15 lists them), each with the test files
 * that must now fail under it. `node test/mutation/run-regressions.js` applies each one to a
 * temporary copy of the project, runs the named tests there, and fails if any mutation survives
 * or no longer applies (its `find` text is gone: update the entry with the code).
 *
 * Each entry: the README promise it breaks, the file, the exact text to find (once; or, with
 * `after`, its first occurrence after that text, which must occur once) and its replacement, and
 * the test files expected to catch it.
 */
module.exports = [
  {
    id: 'duplicate-starts-again',
    promise: 'Nothing runs twice',
    what: 'startCustomization starts a second execution when the delivery is a duplicate',
    file: 'functions/start-customization/core.ts',
    find: '    const started = await ports.startExecution(executionNameFor(source), input);\n',
    replace:
      '    const started = await ports.startExecution(executionNameFor(source), input);\n' +
      '    if (started.alreadyStarted) await ports.startExecution(`${executionNameFor(source)}-again`, input);\n',
    tests: ['test/unit/steps/start-customization.test.ts', 'test/e2e/reliability-duplicates.test.ts'],
  },
  {
    id: 'token-per-call',
    promise: 'Nothing runs twice',
    what: 'the clientRequestToken is made unique per call, so a second submission is not idempotent',
    file: 'functions/submit-customization-job/core.ts',
    find: '    clientRequestToken: clientRequestTokenFor(source),\n',
    replace: '    clientRequestToken: `${clientRequestTokenFor(source)}-${Date.now()}`,\n',
    tests: ['test/unit/steps/submit-customization-job.test.ts', 'test/e2e/reliability-duplicates.test.ts'],
  },
  {
    id: 'claim-unconditional',
    promise: 'Events: lost, repeated, out of order',
    what: 'TaskTokenStore.claim deletes without its condition, so every caller "wins" the claim',
    file: 'functions/shared/aws/task-tokens.ts',
    find: "          ConditionExpression: 'taskToken = :t',\n          ExpressionAttributeValues: { ':t': taskToken },\n",
    replace: '',
    tests: ['test/e2e/task-token-store.test.ts'],
  },
  {
    id: 'pass-role-wildcard',
    promise: 'The template is least privilege',
    what: 'iam:Pass* on any role (arn:aws:iam::*:role/*)',
    file: 'serverless.yml',
    find: '        Action: [iam:PassRole]\n        Resource: ${self:custom.refs.bedrockRoleArn}\n',
    replace: "        Action: ['iam:Pass*']\n        Resource: 'arn:aws:iam::*:role/*'\n",
    tests: ['test/contract/template.test.ts'],
  },
  {
    id: 's3-get-kms-key-anywhere',
    promise: 'The template is least privilege',
    what: 's3:Get* and kms:*Key* on arn:aws:*:*:*:*',
    file: 'serverless.yml',
    find: '      - Effect: Allow\n        Action: [events:PutEvents]\n',
    replace:
      "      - Effect: Allow\n        Action: ['s3:Get*', 'kms:*Key*']\n        Resource: 'arn:aws:*:*:*:*'\n" +
      '      - Effect: Allow\n        Action: [events:PutEvents]\n',
    tests: ['test/contract/template.test.ts'],
  },
  {
    id: 'key-policy-keeps-missing-via-service',
    promise: 'The key policy means what it says',
    what: 'a TuneVault statement without kms:ViaService merges unchanged (changed: false)',
    file: 'functions/ensure-customer-managed-key/policy.ts',
    find: "  if (via !== undefined && equals['kms:ViaService'] !== via) {\n",
    replace: "  if (via !== undefined && equals['kms:ViaService'] !== via && false) {\n",
    tests: ['test/unit/key-policy-simulation.test.ts'],
  },
  {
    id: 'key-policy-keeps-widened-actions',
    promise: 'The key policy means what it says',
    what: 'a widened TuneVault statement (users may Encrypt) keeps its extra actions',
    file: 'functions/ensure-customer-managed-key/policy.ts',
    find: '  if (!sameList(actions, wanted)) same.Action = [...wanted];\n',
    replace: '  if (missingActions.length > 0) same.Action = [...actions, ...missingActions];\n',
    tests: ['test/unit/key-policy-simulation.test.ts'],
  },
  {
    id: 'retry-uncapped',
    promise: 'Nothing is lost to a transient error',
    what: 'the throttling retrier of SubmitCustomizationJob loses its cap (waits grow without bound)',
    file: 'statemachines/customization.asl.json',
    find: '          "BackoffRate": 2,\n          "MaxDelaySeconds": 60,\n          "JitterStrategy": "FULL"\n',
    replace: '          "BackoffRate": 2,\n          "JitterStrategy": "FULL"\n',
    tests: ['test/contract/retry-schedule.test.ts'],
  },
  {
    id: 'retry-unjittered',
    promise: 'Nothing is lost to a transient error',
    what: 'the throttling retrier of SubmitCustomizationJob loses its jitter (every run retries in step)',
    file: 'statemachines/customization.asl.json',
    find: '          "BackoffRate": 2,\n          "MaxDelaySeconds": 60,\n          "JitterStrategy": "FULL"\n',
    replace: '          "BackoffRate": 2,\n          "MaxDelaySeconds": 60\n',
    tests: ['test/contract/retry-schedule.test.ts'],
  },
  {
    id: 'retry-plain-on-one-task',
    promise: 'Nothing is lost to a transient error',
    what: 'one Lambda Task other than SubmitCustomizationJob (the poll) gets its own throttling retrier, uncapped and unjittered, which takes the place of the shared one (statemachines/retries.json)',
    file: 'statemachines/customization.asl.json',
    after: '    "CheckCustomizationJob": {\n',
    find: '      "ResultPath": "$.jobResult",\n',
    replace:
      '      "ResultPath": "$.jobResult",\n' +
      '      "Retry": [{ "ErrorEquals": ["ThrottlingException"], "IntervalSeconds": 2, "MaxAttempts": 5, "BackoffRate": 2 }],\n',
    tests: ['test/contract/asl.test.ts', 'test/contract/retry-schedule.test.ts'],
  },
  {
    id: 'detector-dropped',
    promise: 'The guard finds and redacts every type it lists',
    what: 'the JWT detector is left out of the registry the scan runs (its own unit tests still pass)',
    file: 'functions/shared/guard/registry.ts',
    find: '  googleApiKey,\n  jwt,\n  cardNumber,\n',
    replace: '  googleApiKey,\n  cardNumber,\n',
    tests: ['test/unit/guard/registry.test.ts'],
  },
  {
    id: 'fastpath-lets-jwt-through',
    promise: 'The guard finds and redacts every type it lists',
    what: 'the fast path takes a record holding a JWT as plain (the finding is lost)',
    file: 'functions/shared/guard/fastpath.ts',
    find: 'if (this.gates !== 0 && detectAll(value, this.gates).length > 0) throw LEAVE;',
    replace:
      "if (this.gates !== 0 && detectAll(value, this.gates).filter((m) => m.type !== 'JWT').length > 0) throw LEAVE;",
    tests: ['test/unit/guard/fastpath.test.ts'],
  },
  {
    id: 'redaction-keeps-iban',
    promise: 'The guard finds and redacts every type it lists',
    what: 'IBANs are reported but left in the sanitized copy',
    file: 'functions/shared/guard/records.ts',
    find: '    return true;\n  }\n\n  private addProblem(',
    replace: "    return m.type !== 'IBAN';\n  }\n\n  private addProblem(",
    tests: ['test/unit/guard/redact.test.ts'],
  },
];
