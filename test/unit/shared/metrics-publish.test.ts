/** The metrics middleware and the best-effort job lookup (functions/shared/metrics.ts). */
import { createMetrics, jobTimesOf, publishMetrics } from '../../../functions/shared/metrics';

describe('publishMetrics', () => {
  it('publishes only when the invocation stored a metric (no "No application metrics" warning otherwise)', async () => {
    const metrics = createMetrics('test-fn');
    const publish = jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    const middleware = publishMetrics(metrics);
    await (middleware.after as () => Promise<void>)();
    expect(publish).not.toHaveBeenCalled();
    jest.spyOn(metrics, 'hasStoredMetrics').mockReturnValue(true);
    await (middleware.onError as () => Promise<void>)();
    expect(publish).toHaveBeenCalledTimes(1);
  });
});

describe('jobTimesOf', () => {
  it('returns nothing and reports the error when the lookup fails, never throwing', async () => {
    const heard: string[] = [];
    const failing = async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    };
    await expect(
      jobTimesOf(failing, 'arn:aws:bedrock:us-east-1:1:model-customization-job/j', (e) => heard.push(e.name)),
    ).resolves.toBeUndefined();
    expect(heard).toEqual(['AccessDeniedException']);
  });
});
