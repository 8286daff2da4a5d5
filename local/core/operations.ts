/**
 * The one way an emulated service says what it serves: a table from API operation name to what
 * the operation does with its parsed input. The protocol finds the operation's name — awsJson from
 * `X-Amz-Target` (json-protocol.ts), restJson from a table of method and path templates — reads
 * the input, and dispatches through the table; an operation missing from it is
 * UnknownOperationException, as AWS answers a target it does not know.
 */
import type { LocalRequest } from './types';

export type OperationHandler<Input> = (input: Input, req: LocalRequest) => unknown;

export type OperationTable<Input> = Readonly<Record<string, OperationHandler<Input>>>;

/**
 * The handler of OPERATION. Own properties only: a target such as `TrentService.constructor` or
 * `__proto__` must not reach Object.prototype.
 */
export function operationIn<Input>(
  table: OperationTable<Input>,
  operation: string,
): OperationHandler<Input> | undefined {
  return Object.hasOwn(table, operation) ? table[operation] : undefined;
}
