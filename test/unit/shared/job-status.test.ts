/**
 * Reading GetModelCustomizationJob's statusDetails (botocore bedrock 2023-04-20: validationDetails,
 * dataProcessingDetails and trainingDetails, each with a status of InProgress, Completed, Stopping,
 * Stopped or Failed) into the words the report and the notification use.
 */
import { haltedPhase, statusDetailsText } from '../../../functions/shared/job-status';

describe('statusDetailsText', () => {
  it('names each phase Bedrock reported, in order, and skips the ones it did not', () => {
    expect(statusDetailsText({ validation: 'Completed', training: 'Failed' })).toBe(
      'validation Completed · training Failed',
    );
    expect(
      statusDetailsText({ training: 'InProgress', dataProcessing: 'Completed', validation: 'Completed' }),
    ).toBe('validation Completed · data processing Completed · training InProgress');
  });

  it('says nothing for no details or details without a phase', () => {
    expect(statusDetailsText(undefined)).toBeUndefined();
    expect(statusDetailsText({})).toBeUndefined();
  });
});

describe('haltedPhase', () => {
  it('is the first phase that Failed or was Stopped', () => {
    expect(haltedPhase({ validation: 'Completed', dataProcessing: 'Completed', training: 'Failed' })).toBe(
      'training',
    );
    expect(haltedPhase({ validation: 'Completed', dataProcessing: 'Stopped' })).toBe('data processing');
  });

  it('is none while every phase is running or done', () => {
    expect(haltedPhase({ validation: 'Completed', training: 'InProgress' })).toBeUndefined();
    expect(haltedPhase(undefined)).toBeUndefined();
  });
});
