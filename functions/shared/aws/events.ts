/** Run notifications on the default EventBridge bus. */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventsClient } from './clients';

export const NOTIFICATION_SOURCE = 'tunevault';

export class EventsGateway {
  constructor(private readonly events: EventBridgeClient = eventsClient()) {}

  async publish(detailType: string, detail: Record<string, unknown>, resources: string[]): Promise<string> {
    const out = await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: NOTIFICATION_SOURCE,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
            Resources: resources.filter((r) => r.startsWith('arn:')),
          },
        ],
      }),
    );
    const entry = out.Entries?.[0];
    if (out.FailedEntryCount || !entry?.EventId) {
      throw new Error(
        `PutEvents rejected the notification: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`,
      );
    }
    return entry.EventId;
  }
}
