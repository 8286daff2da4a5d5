import { FaultInjector } from '../../../local/core/faults';

describe('fault injection', () => {
  it('holds a call until its `until` settles (a process that died mid-call stays dead), then lets it through', async () => {
    const faults = new FaultInjector();
    let release = () => {};
    const until = new Promise<void>((r) => {
      release = r;
    });
    faults.add({ service: 'dynamodb', operation: 'UpdateItem', count: 1, until });
    let done = false;
    const call = faults.apply('dynamodb', 'UpdateItem').then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await call;
    expect(done).toBe(true);
    // One call only: the next one is not held.
    await faults.apply('dynamodb', 'UpdateItem');
    expect(faults.calls.get('dynamodb:UpdateItem')).toBe(2);
  });

  it('answers the named AWS error after the hold when one is given', async () => {
    const faults = new FaultInjector();
    faults.add({
      service: 'kms',
      operation: 'CreateKey',
      count: 1,
      until: Promise.resolve(),
      error: 'KMSInternalException',
    });
    await expect(faults.apply('kms', 'CreateKey')).rejects.toMatchObject({ name: 'KMSInternalException' });
  });
});
