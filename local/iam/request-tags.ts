/** `aws:RequestTag/<key>` and `aws:TagKeys`, the condition keys of a request that sets tags. */
export function requestTagContext(tags: { key: string; value: string }[]): Record<string, string | string[]> {
  if (tags.length === 0) return {};
  const ctx: Record<string, string | string[]> = Object.fromEntries(
    tags.map((t) => [`aws:RequestTag/${t.key}`, String(t.value ?? '')]),
  );
  ctx['aws:TagKeys'] = tags.map((t) => t.key);
  return ctx;
}
