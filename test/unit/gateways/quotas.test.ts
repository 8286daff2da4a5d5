/** QuotasGateway: the applied quota value, else AWS's default (aws-sdk-client-mock). */
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { QuotasGateway } from '../../../functions/shared/aws/quotas';

const awsError = (name: string) => Object.assign(new Error(`${name} message`), { name, $metadata: {} });
const quotas = mockClient(ServiceQuotasClient);
beforeEach(() => quotas.reset());
const gw = () => new QuotasGateway(new ServiceQuotasClient({}));

describe('QuotasGateway.quotaValue', () => {
  it('returns the applied value and asks for nothing else', async () => {
    quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 4 } });
    await expect(gw().quotaValue('bedrock', 'L-0406044C')).resolves.toBe(4);
    expect(quotas).toHaveReceivedCommandWith(GetServiceQuotaCommand, {
      ServiceCode: 'bedrock',
      QuotaCode: 'L-0406044C',
    });
    expect(quotas).not.toHaveReceivedCommand(GetAWSDefaultServiceQuotaCommand);
  });

  it("without an applied value (NoSuchResourceException) returns AWS's default for the same quota", async () => {
    quotas.on(GetServiceQuotaCommand).rejects(awsError('NoSuchResourceException'));
    quotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 2 } });
    await expect(gw().quotaValue('bedrock', 'L-0406044C')).resolves.toBe(2);
    expect(quotas).toHaveReceivedCommandWith(GetAWSDefaultServiceQuotaCommand, {
      ServiceCode: 'bedrock',
      QuotaCode: 'L-0406044C',
    });
  });

  it('reads an answer without a quota as undefined, and keeps any other error', async () => {
    quotas.on(GetServiceQuotaCommand).resolvesOnce({}).rejectsOnce(awsError('AccessDeniedException'));
    await expect(gw().quotaValue('bedrock', 'L-0406044C')).resolves.toBeUndefined();
    await expect(gw().quotaValue('bedrock', 'L-0406044C')).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(quotas).not.toHaveReceivedCommand(GetAWSDefaultServiceQuotaCommand);
  });
});
