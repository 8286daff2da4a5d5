/** The shared retriers (statemachines/retries.json) as the loader puts them on each Lambda task. */
const loader = require('../../statemachines/loader.js') as {
  withSharedRetries(asl: unknown, shared: unknown[]): { States: Record<string, { Retry?: Retrier[] }> };
  readAsl(): { States: Record<string, { Type: string; Resource?: string; Retry?: Retrier[] }> };
};
const shared = require('../../statemachines/retries.json') as Retrier[];

interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
}

const task = (extra: Record<string, unknown>) => ({
  StartAt: 'T',
  // The ASL's own placeholder syntax (bound by the loader), not a template string.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder
  States: { T: { Type: 'Task', Resource: '${StepArn}', End: true, ...extra } },
});
const retried = (asl: { States: Record<string, { Retry?: Retrier[] }> }) =>
  (asl.States.T?.Retry ?? []).flatMap((r) => r.ErrorEquals);

test('a Lambda task gets every shared retrier after its own', () => {
  const out = loader.withSharedRetries(task({ Retry: [{ ErrorEquals: ['MineError'] }] }), shared);
  expect(retried(out)).toEqual(['MineError', ...shared.flatMap((r) => r.ErrorEquals)]);
});

test("an error the task retries itself or catches by name keeps the task's own decision", () => {
  const out = loader.withSharedRetries(
    task({
      Retry: [{ ErrorEquals: ['ThrottlingException'], MaxAttempts: 6 }],
      Catch: [
        { ErrorEquals: ['ServiceQuotaExceededException'], Next: 'T' },
        { ErrorEquals: ['States.ALL'], Next: 'T' },
      ],
    }),
    shared,
  );
  const throttling = (out.States.T?.Retry ?? []).filter((r) => r.ErrorEquals.includes('ThrottlingException'));
  expect(throttling).toEqual([{ ErrorEquals: ['ThrottlingException'], MaxAttempts: 6 }]);
  expect(retried(out)).not.toContain('ServiceQuotaExceededException');
  expect(retried(out)).toContain('Lambda.ServiceException');
});

test('a task retrying States.ALL, and tasks that are not Lambda, get none', () => {
  const all = loader.withSharedRetries(task({ Retry: [{ ErrorEquals: ['States.ALL'] }] }), shared);
  expect(retried(all)).toEqual(['States.ALL']);
  const events = loader.withSharedRetries(task({ Resource: 'arn:aws:states:::events:putEvents' }), shared);
  expect(retried(events)).toEqual([]);
});

test('every Lambda task of the deployed ASL retries each shared error exactly once', () => {
  const tasks = Object.entries(loader.readAsl().States).filter(
    ([, s]) => s.Type === 'Task' && /Arn\}$|:lambda:invoke/.test(String(s.Resource)),
  );
  expect(tasks.length).toBeGreaterThan(8);
  for (const [name, state] of tasks) {
    const errors = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
    expect({ name, duplicates: errors.filter((e, i) => errors.indexOf(e) !== i) }).toEqual({
      name,
      duplicates: [],
    });
    expect({ name, lambda: errors.includes('Lambda.ServiceException') }).toEqual({ name, lambda: true });
  }
});
