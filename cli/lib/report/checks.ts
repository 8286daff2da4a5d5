/**
 * The report's verdicts, taken from the run's own data and the steps' own rules: the bucket
 * rules the validate step evaluated (its result, or the rules its refusal carried), the key
 * usability rule of EnsureCustomerManagedKey and the key match of FinalizeCustomModel.
 */
import { unusableReason } from '../../../functions/ensure-customer-managed-key/core';
import { isEncryptedWith } from '../../../functions/finalize-custom-model/core';
import { bucketRulesOfFailure } from '../../../functions/shared/step-failure';
import type { RuleResult } from '../../../functions/shared/types';
import { failureOf, field, type RunView } from '../run-view';
import type { ReportData } from './collect';

/** Every rule the check reported: from its result, or, for a refused run, from its refusal. */
export function bucketRulesOf(run: RunView): { rules: RuleResult[]; from: 'run' | 'refusal' | 'none' } {
  const rules = field<RuleResult[]>(run.state, 'buckets', 'rules');
  if (rules && rules.length > 0) return { rules, from: 'run' };
  const failure = failureOf(run);
  const refused = failure ? bucketRulesOfFailure(failure) : undefined;
  if (refused && refused.length > 0) return { rules: refused, from: 'refusal' };
  return { rules: [], from: 'none' };
}

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

interface KeyState {
  keyArn?: string;
  alias?: string;
  created?: boolean;
  statementsAdded?: string[];
}

function usabilityCheck(d: ReportData): Check | undefined {
  const k = d.key;
  if (!k) return undefined;
  const reason = unusableReason(k);
  const manager = k.keyManager === 'CUSTOMER' ? 'customer managed' : k.keyManager;
  return {
    name: 'Key usable by Bedrock',
    status: reason ? 'fail' : 'pass',
    detail: `${k.keyState}, ${manager}, ${k.keySpec}, ${k.keyUsage}${reason ? ` — the key ${reason}` : ''}`,
  };
}

/** The key's checks: found or made, usable, policy, and that the job and the model use it. */
export function keyChecksOf(d: ReportData): Check[] {
  const s = d.summary;
  const state = s.run.state;
  const failure = failureOf(s.run);
  const error = failure?.error;
  const cause = failure?.message ?? '';
  const key = state.key as KeyState | undefined;
  const checks: Check[] = [];

  if (error === 'KeyNotUsableError')
    checks.push({ name: 'Customer managed key', status: 'fail', detail: cause });
  else if (key?.keyArn)
    checks.push({
      name: 'Customer managed key',
      status: 'pass',
      detail: key.created
        ? `created by this run${key.alias ? ` under ${key.alias}` : ''}`
        : `found${key.alias ? ` under ${key.alias}` : ''} and reused`,
    });
  else checks.push({ name: 'Customer managed key', status: 'skip', detail: 'not reached' });

  const usable = key?.keyArn ? usabilityCheck(d) : undefined;
  if (usable) checks.push(usable);
  if (key?.keyArn && d.key?.rotationEnabled !== undefined)
    checks.push({
      name: 'Automatic key rotation',
      status: d.key.rotationEnabled ? 'pass' : 'warn',
      detail: d.key.rotationEnabled ? 'enabled' : 'disabled — enable it with EnableKeyRotation',
    });

  if (error === 'KeyPolicyError') checks.push({ name: 'Key policy', status: 'fail', detail: cause });
  else if (key?.keyArn)
    checks.push({
      name: 'Key policy',
      status: 'pass',
      detail:
        key.statementsAdded && key.statementsAdded.length > 0
          ? `builder and user statements in place; added ${key.statementsAdded.join(', ')}`
          : 'builder and user statements already in place',
    });

  const jobKey = d.job?.outputModelKmsKeyArn;
  if (s.jobArn && key?.keyArn) {
    checks.push(
      jobKey
        ? {
            name: 'Job encrypts the model with the key',
            status: isEncryptedWith(jobKey, key.keyArn) ? 'pass' : 'fail',
            detail: `customModelKmsKeyId ${jobKey}`,
          }
        : { name: 'Job encrypts the model with the key', status: 'skip', detail: 'job details unavailable' },
    );
  }

  const modelKey = field(state, 'model', 'modelKmsKeyArn');
  if (error === 'ModelNotCompliantError')
    checks.push({ name: 'Model encrypted with the key', status: 'fail', detail: cause });
  else if (modelKey)
    checks.push({
      name: 'Model encrypted with the key',
      status: key?.keyArn && isEncryptedWith(modelKey, key.keyArn) ? 'pass' : 'fail',
      detail: `modelKmsKeyArn ${modelKey}`,
    });
  else checks.push({ name: 'Model encrypted with the key', status: 'skip', detail: 'no model' });
  return checks;
}
