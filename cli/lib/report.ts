/**
 * The run report: one self-contained HTML file (no scripts, fonts or styles from the network)
 * with the state timeline, the bucket and key checks, the data-guard findings (masked), the
 * training and validation loss curves (inline SVG) and the model's tags and key.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import { parseS3Uri } from '../../functions/shared/naming';
import type { CliClients } from './clients';
import type { RunSummary } from './drop';
import { formatMs } from './progress';
import { field } from './run-view';

export const REPORT_DIR = path.join(process.cwd(), '.tunevault', 'reports');

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export interface LossPoint {
  step: number;
  loss: number;
}

/** Reads `step_number,...,<lossColumn>` CSVs as Bedrock writes them. */
export function parseMetricsCsv(csv: string, lossColumn: string): LossPoint[] {
  const [header, ...rows] = csv.trim().split(/\r?\n/);
  const cols = (header ?? '').split(',').map((c) => c.trim());
  const stepAt = cols.indexOf('step_number');
  const lossAt = cols.indexOf(lossColumn);
  if (stepAt < 0 || lossAt < 0) return [];
  return rows
    .map((r) => r.split(','))
    .map((c) => ({ step: Number(c[stepAt]), loss: Number(c[lossAt]) }))
    .filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss));
}

export function lossChartSvg(series: { name: string; color: string; points: LossPoint[] }[]): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '<p class="muted">No metrics were written for this run.</p>';
  const W = 640;
  const H = 260;
  const P = 40;
  const maxStep = Math.max(...all.map((p) => p.step), 1);
  const minLoss = Math.min(...all.map((p) => p.loss));
  const maxLoss = Math.max(...all.map((p) => p.loss));
  const span = maxLoss - minLoss || 1;
  const x = (s: number) => P + (s / maxStep) * (W - 2 * P);
  const y = (l: number) => H - P - ((l - minLoss) / span) * (H - 2 * P);
  const lines = series
    .filter((s) => s.points.length > 0)
    .map(
      (s) =>
        `<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${s.points
          .map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`)
          .join(' ')}"/>`,
    )
    .join('');
  const legend = series
    .filter((s) => s.points.length > 0)
    .map(
      (s, i) =>
        `<text x="${W - P - 150}" y="${P + 16 * i}" fill="${s.color}" font-size="12">● ${esc(s.name)}</text>`,
    )
    .join('');
  return `<svg id="loss-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Loss by step">
<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#999"/>
<text x="${P}" y="${H - 12}" font-size="11" fill="#666">step 0</text><text x="${W - P - 40}" y="${H - 12}" font-size="11" fill="#666">step ${maxStep}</text>
<text x="4" y="${P}" font-size="11" fill="#666">${maxLoss.toFixed(3)}</text><text x="4" y="${H - P}" font-size="11" fill="#666">${minLoss.toFixed(3)}</text>
${lines}${legend}</svg>`;
}

async function readText(c: CliClients, uri: string): Promise<string | undefined> {
  try {
    const { bucket, key } = parseS3Uri(uri);
    const out = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf8');
  } catch {
    return undefined;
  }
}

export interface ReportData {
  summary: Omit<RunSummary, 'run'> & { run: RunSummary['run'] };
  guard?: {
    findings?: { type: string; severity: string; line: number; field?: string; preview: string }[];
    problems?: { line?: number; reason: string; level: string }[];
  };
  training: LossPoint[];
  validation: LossPoint[];
}

export async function collectReportData(c: CliClients, summary: RunSummary): Promise<ReportData> {
  const state = summary.run.state;
  const reportUri = field(state, 'scan', 'reportS3Uri');
  const guardText = reportUri ? await readText(c, reportUri) : undefined;
  let training: LossPoint[] = [];
  let validation: LossPoint[] = [];
  const outputUri = field(state, 'job', 'jobArn') ? await jobOutputUri(c, summary) : undefined;
  if (outputUri) {
    const trainCsv = await readText(c, `${outputUri}training_artifacts/step_wise_training_metrics.csv`);
    const valCsv = await readText(
      c,
      `${outputUri}validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
    );
    training = trainCsv ? parseMetricsCsv(trainCsv, 'training_loss') : [];
    validation = valCsv ? parseMetricsCsv(valCsv, 'validation_loss') : [];
  }
  return {
    summary,
    ...(guardText ? { guard: JSON.parse(guardText) as ReportData['guard'] } : {}),
    training,
    validation,
  };
}

async function jobOutputUri(c: CliClients, summary: RunSummary): Promise<string | undefined> {
  const { GetModelCustomizationJobCommand } = await import('@aws-sdk/client-bedrock');
  const job = await c.bedrock
    .send(new GetModelCustomizationJobCommand({ jobIdentifier: summary.jobArn }))
    .catch(() => undefined);
  const base = job?.outputDataConfig?.s3Uri;
  const id = summary.jobArn?.split('/').pop();
  if (!base || !id) return undefined;
  return `${base.endsWith('/') ? base : `${base}/`}model-customization-job-${id}/`;
}

export function renderReport(d: ReportData): string {
  const s = d.summary;
  const state = s.run.state;
  const t0 = s.run.startDate;
  const total = Math.max(1, (s.run.stopDate ?? Date.now()) - t0);
  const timeline = s.run.timeline
    .map((span) => {
      const left = ((span.enteredAt - t0) / total) * 100;
      const width = Math.max(0.5, ((span.durationMs ?? 0) / total) * 100);
      return `<tr class="state ${span.outcome}"><td>${esc(span.name)}</td><td>${esc(span.outcome)}${span.error ? ` — ${esc(span.error)}` : ''}</td>
<td class="num">${span.durationMs !== undefined ? esc(formatMs(span.durationMs)) : '…'}</td>
<td class="bar"><div style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div></td></tr>`;
    })
    .join('\n');
  const rules = (
    field<{ bucket: string; rule: string; passed: boolean; detail: string }[]>(state, 'buckets', 'rules') ??
    []
  )
    .map(
      (r) =>
        `<tr class="${r.passed ? 'pass' : 'fail'}"><td>${r.passed ? '✔' : '✖'}</td><td>s3://${esc(r.bucket)}</td><td>${esc(r.rule)}</td><td>${esc(r.detail)}</td></tr>`,
    )
    .join('');
  const bucketFailure = s.error === 'BucketNotCompliantError' ? `<p class="fail">${esc(s.cause)}</p>` : '';
  const findings = (d.guard?.findings ?? [])
    .map(
      (f) =>
        `<tr><td>${esc(f.type)}</td><td>${esc(f.severity)}</td><td class="num">${esc(f.line)}</td><td>${esc(f.field ?? '')}</td><td><code>${esc(f.preview)}</code></td></tr>`,
    )
    .join('');
  const byType = Object.entries(field<Record<string, number>>(state, 'scan', 'byType') ?? {})
    .map(([k, v]) => `<li>${esc(k)}: ${esc(v)}</li>`)
    .join('');
  const tags = Object.entries(s.modelTags ?? {})
    .sort()
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`)
    .join('');
  const key = state.key as Record<string, unknown> | undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TuneVault run ${esc(s.run.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:980px;color:#1d2430;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #e3e6ea;padding-bottom:.3rem}
.status{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-weight:600}
.SUCCEEDED{background:#e3f6e8;color:#1a6b34}.FAILED,.TIMED_OUT,.ABORTED{background:#fde8e8;color:#9b1c1c}.RUNNING{background:#e8f0fe;color:#1c3d9b}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #eef0f2;text-align:left;vertical-align:top}
.num{text-align:right;white-space:nowrap}.bar{width:40%}.bar div{height:10px;background:#4c7bd9;border-radius:3px}
tr.caught .bar div,tr.failed .bar div{background:#d9534c}.fail{color:#9b1c1c}.pass td:first-child{color:#1a6b34}.muted{color:#777}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#555}dd{margin:0;word-break:break-all}code{font-size:12px}
</style></head><body>
<h1>TuneVault run <span class="status ${esc(s.status)}">${esc(s.status)}</span></h1>
<p class="muted">${esc(s.source)} · started ${esc(new Date(t0).toISOString())}${s.durationMs !== undefined ? ` · ${esc(formatMs(s.durationMs))}` : ''} · ${s.run.transitions} state transitions</p>
<dl>
<dt>Execution</dt><dd>${esc(s.executionArn)}</dd>
<dt>Job</dt><dd>${esc(s.jobArn ?? '—')}</dd>
<dt>Custom model</dt><dd>${esc(s.modelArn ?? '—')}</dd>
<dt>Customer managed key</dt><dd>${esc(s.kmsKeyArn ?? '—')}</dd>
<dt>Model encrypted with</dt><dd>${esc(s.modelKmsKeyArn ?? '—')}</dd>
<dt>Final training loss</dt><dd>${esc(s.trainingLoss?.toFixed(4) ?? '—')}</dd>
${s.error ? `<dt>Error</dt><dd class="fail">${esc(s.error)}: ${esc(s.cause)}</dd>` : ''}
</dl>
<h2>State timeline</h2>
<table id="timeline"><thead><tr><th>State</th><th>Outcome</th><th class="num">Duration</th><th>When</th></tr></thead><tbody>
${timeline}
</tbody></table>
<h2>Bucket checks</h2>
${rules ? `<table id="bucket-rules">${rules}</table>` : '<p class="muted">Not reached.</p>'}${bucketFailure}
<h2>Customer managed key</h2>
${key ? `<dl><dt>Key</dt><dd>${esc(key.keyArn)}</dd><dt>Alias</dt><dd>${esc(key.alias ?? '—')}</dd><dt>Created by this run</dt><dd>${key.created ? 'yes' : 'no (reused)'}</dd><dt>Policy statements added</dt><dd>${esc((key.statementsAdded as string[] | undefined)?.join(', ') || 'none')}</dd></dl>` : '<p class="muted">Not reached.</p>'}
<h2>Data guard</h2>
${state.scan ? `<p>Verdict <strong>${esc(field(state, 'scan', 'verdict'))}</strong> · ${esc(field(state, 'scan', 'records'))} records · ${esc(field(state, 'scan', 'totalFindings'))} findings · sha256 <code>${esc(field(state, 'scan', 'sha256'))}</code></p><ul>${byType}</ul>` : s.error === 'SensitiveDataError' || s.error === 'InvalidTrainingDataError' ? `<p class="fail">${esc(s.cause)}</p>` : '<p class="muted">Not reached.</p>'}
${findings ? `<table id="findings"><thead><tr><th>Type</th><th>Severity</th><th class="num">Line</th><th>Field</th><th>Preview (masked)</th></tr></thead><tbody>${findings}</tbody></table>` : ''}
<h2>Loss</h2>
${lossChartSvg([
  { name: 'training loss', color: '#4c7bd9', points: d.training },
  { name: 'validation loss', color: '#e08a1e', points: d.validation },
])}
<h2>Model tags</h2>
${tags ? `<table id="model-tags">${tags}</table>` : '<p class="muted">No model.</p>'}
</body></html>
`;
}

export async function writeRunReport(c: CliClients, summary: RunSummary, out?: string): Promise<string> {
  const file = out ?? path.join(REPORT_DIR, `${summary.run.name}.html`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderReport(await collectReportData(c, summary)));
  return file;
}
