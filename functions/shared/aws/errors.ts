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
