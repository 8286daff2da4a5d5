/** The loss chart: inline SVG (no script, nothing from the network), one polyline per series. */
import type { LossPoint } from './collect';
import { esc } from './markup';

export interface Series {
  name: string;
  color: string;
  points: LossPoint[];
}

/** Round tick steps (1, 2, 2.5, 5 × 10ⁿ) covering [min, max] with about `count` ticks. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let t = first; t <= max + step * 0.999; t += step) ticks.push(Number(t.toFixed(10)));
  return ticks;
}

const fmtTick = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3))));

export function lossChartSvg(series: Series[]): string {
  const shown = series.filter((s) => s.points.length > 0);
  const all = shown.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const W = 760;
  const H = 320;
  const M = { left: 62, right: 24, top: 24, bottom: 52 };
  const xTicks = niceTicks(0, Math.max(1, ...all.map((p) => p.step)), 7);
  const yTicks = niceTicks(Math.min(...all.map((p) => p.loss)), Math.max(...all.map((p) => p.loss)), 6);
  const x0 = xTicks[0] ?? 0;
  const x1 = xTicks[xTicks.length - 1] ?? 1;
  const y0 = yTicks[0] ?? 0;
  const y1 = yTicks[yTicks.length - 1] ?? 1;
  const x = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const grid = [
    ...yTicks.map(
      (t) =>
        `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/>` +
        `<text class="tick" x="${M.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${fmtTick(t)}</text>`,
    ),
    ...xTicks.map(
      (t) =>
        `<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${M.top}" y2="${H - M.bottom}"/>` +
        `<text class="tick" x="${x(t).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmtTick(t)}</text>`,
    ),
  ].join('');
  const axes =
    `<g class="axis x"><line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>` +
    `<text class="axis-title" x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">Training step</text></g>` +
    `<g class="axis y"><line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}"/>` +
    `<text class="axis-title" transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">Loss</text></g>`;
  const lines = shown
    .map((s) => {
      const pts = s.points.map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
      // Sparse series (validation is once per epoch) get a marker per point.
      const markers =
        s.points.length <= 30
          ? s.points
              .map(
                (p) =>
                  `<circle class="point" cx="${x(p.step).toFixed(1)}" cy="${y(p.loss).toFixed(1)}" r="4" fill="${s.color}"><title>${esc(s.name)} at step ${p.step}: ${p.loss}</title></circle>`,
              )
              .join('')
          : '';
      return `<g class="series-group"><polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2.25" stroke-linejoin="round" stroke-linecap="round" points="${pts}"/>${markers}</g>`;
    })
    .join('');
  const legendWidth = 24 + Math.max(...shown.map((s) => s.name.length + 8)) * 7.4;
  const legend = `<g class="legend" transform="translate(${W - M.right - legendWidth - 8} ${M.top + 8})"><rect width="${legendWidth}" height="${14 + 20 * shown.length}" rx="6"/>${shown
    .map((s, i) => {
      const last = s.points[s.points.length - 1];
      return `<g transform="translate(12 ${18 + 20 * i})"><line x1="0" x2="22" y1="-4" y2="-4" stroke="${s.color}" stroke-width="3" stroke-linecap="round"/><text x="30" y="0">${esc(s.name)}${last ? ` · ${last.loss.toFixed(3)}` : ''}</text></g>`;
    })
    .join('')}</g>`;
  return `<svg id="loss-chart" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Training and validation loss by step">
<title>Loss by training step</title>${grid}${axes}${lines}${legend}</svg>`;
}
