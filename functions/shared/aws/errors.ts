/** AWS error names the gateways translate; everything else bubbles with its own name. */
export function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

/** Missing-resource answers mean "absent" to a gateway, not failure. */
export async function orUndefined<T>(call: Promise<T>, ...notFound: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isAwsError(err, ...notFound)) return undefined;
    throw err;
  }
}

/**
 * The same error with what was being done put in front of its message. The name is kept (the
 * ASL's Retry and Catch match it), and the original is the `cause`.
 */
export function withContext(err: unknown, doing: string): Error {
  const original = err instanceof Error ? err : new Error(String(err));
  const wrapped = new Error(`${doing}: ${original.message}`, { cause: original });
  wrapped.name = original.name;
  return wrapped;
}
