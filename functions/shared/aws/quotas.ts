/** Service Quotas: the value of one quota that applies to this account, when it can be read. */
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { serviceQuotasClient } from './clients';
import { isAwsError } from './errors';

export class QuotasGateway {
  constructor(private readonly quotas: ServiceQuotasClient = serviceQuotasClient()) {}

  /**
   * The applied value, else AWS's default. GetServiceQuota answers NoSuchResourceException for a
   * quota with no applied value ("If the applied quota value is not available for a quota, the
   * quota is not retrieved" — Service Quotas API reference), hence the second call.
   */
  async quotaValue(serviceCode: string, quotaCode: string): Promise<number | undefined> {
    try {
      const out = await this.quotas.send(
        new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }),
      );
      return out.Quota?.Value;
    } catch (err) {
      if (!isAwsError(err, 'NoSuchResourceException')) throw err;
    }
    const out = await this.quotas.send(
      new GetAWSDefaultServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }),
    );
    return out.Quota?.Value;
  }
}
