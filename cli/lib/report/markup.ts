/** HTML pieces the report's sections share: everything from a run goes through `esc`. */
export const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export const pill = (status: string, text = status) =>
  `<span class="pill ${esc(status)}">${esc(text)}</span>`;
export const utc = (t: number) =>
  `${new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} UTC`;
export const mono = (v: string | undefined) =>
  v ? `<span class="mono">${esc(v)}</span>` : '<span class="muted">—</span>';
