/**
 * Service Quotas (awsJson1_1, `X-Amz-Target: ServiceQuotasV20190624.<Op>`): GetServiceQuota and
 * GetAWSDefaultServiceQuota for the quotas the embedded services enforce — today Bedrock's
 * concurrent customization jobs, whose value is the embedded Bedrock's own. Any other quota is
 * NoSuchResourceException, as AWS answers a quota code it does not know.
 */
import * as serviceQuotasModel from '@aws-sdk/client-service-quotas';
import { type Body, requireString } from '../core/input';
import { AwsJsonService } from '../core/json-protocol';
import type { OperationTable } from '../core/operations';
import { AwsError } from '../core/types';
import type { AccessRequest } from '../iam/types';

export interface LocalQuota {
  serviceCode: string;
  serviceName: string;
  quotaCode: string;
  quotaName: string;
  adjustable: boolean;
  /** The value that applies now (read at each request, so it follows the service's setting). */
  value: () => number;
}

export interface ServiceQuotasOptions {
  accountId: string;
  region: string;
  quotas: LocalQuota[];
}

export class ServiceQuotasService extends AwsJsonService {
  override readonly signingName = 'servicequotas';

  constructor(private readonly options: ServiceQuotasOptions) {
    super({ name: 'Service Quotas', contentType: 'application/x-amz-json-1.1', model: serviceQuotasModel });
  }

  // Without an applied (changed) value AWS answers GetServiceQuota with the default anyway for
  // most quotas; the embedded account has no history of increases, so both agree.
  protected readonly operations: OperationTable<Body> = {
    GetServiceQuota: (b) => ({ Quota: this.view(this.find(b)) }),
    GetAWSDefaultServiceQuota: (b) => ({ Quota: this.view(this.find(b)) }),
  };

  /**
   * Service Authorization Reference (Service Quotas): GetServiceQuota on the `quota` resource
   * (`arn:${Partition}:servicequotas:${Region}:${Account}:${ServiceCode}/${QuotaCode}`, condition
   * key servicequotas:service); GetAWSDefaultServiceQuota has no resource type.
   */
  protected access(op: string, body: Body): AccessRequest[] {
    const serviceCode = typeof body.ServiceCode === 'string' ? body.ServiceCode : '';
    const quotaCode = typeof body.QuotaCode === 'string' ? body.QuotaCode : '';
    const { region, accountId } = this.options;
    if (op === 'GetServiceQuota')
      return [
        {
          action: 'servicequotas:GetServiceQuota',
          resource: `arn:aws:servicequotas:${region}:${accountId}:${serviceCode}/${quotaCode}`,
          context: { 'servicequotas:service': serviceCode },
        },
      ];
    return [{ action: `servicequotas:${op}`, resource: '*' }];
  }

  private find(body: Body): LocalQuota {
    const serviceCode = requireString(body, 'ServiceCode');
    const quotaCode = requireString(body, 'QuotaCode');
    const quota = this.options.quotas.find((q) => q.serviceCode === serviceCode && q.quotaCode === quotaCode);
    if (!quota)
      throw new AwsError(
        'NoSuchResourceException',
        `The request failed because the specified quota ${quotaCode} for service ${serviceCode} does not exist.`,
      );
    return quota;
  }

  private view(q: LocalQuota) {
    const { region, accountId } = this.options;
    return {
      ServiceCode: q.serviceCode,
      ServiceName: q.serviceName,
      QuotaArn: `arn:aws:servicequotas:${region}:${accountId}:${q.serviceCode}/${q.quotaCode}`,
      QuotaCode: q.quotaCode,
      QuotaName: q.quotaName,
      Value: q.value(),
      Unit: 'None',
      Adjustable: q.adjustable,
      GlobalQuota: false,
    };
  }
}
