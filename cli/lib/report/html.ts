/**
 * The report's HTML: one self-contained page (no scripts, and no fonts, styles or images from the
 * network) with the state timeline, the bucket and key checks, the data-guard findings (masked),
 * the loss curves and the model's tags and key.
 */
import { type FindingType, SEVERITIES } from '../../../functions/shared/guard/types';
import { stepFailureOf } from '../../../functions/shared/step-failure';
import type { RuleResult } from '../../../functions/shared/types';
import type { RunSummary } from '../drop';
import { formatMs } from '../progress';
import { field, guardFindingsOf, guardVerdictOf, jobWaitMs, type RunView } from '../run-view';
import { lossChartSvg } from './chart';
import { bucketRulesOf, keyChecksOf } from './checks';
import type { ReportData } from './collect';
import { esc, mono, pill, utc } from './markup';

/** A label for every type the guard can report (a new detector needs one here to compile). */
const FINDING_LABELS: Record<FindingType, string> = {
  AWS_ACCESS_KEY_ID: 'AWS access key ID',
  AWS_SECRET_ACCESS_KEY: 'AWS secret access key',
  PRIVATE_KEY: 'Private key',
  GITHUB_TOKEN: 'GitHub token',
  SLACK_TOKEN: 'Slack token',
  SLACK_WEBHOOK: 'Slack webhook',
  STRIPE_KEY: 'Stripe key',
  GOOGLE_API_KEY: 'Google API key',
  JWT: 'JSON Web Token',
  GENERIC_SECRET: 'Secret',
  EMAIL: 'Email address',
  PHONE: 'Phone number',
  CARD_NUMBER: 'Payment card number',
  US_SSN: 'US Social Security number',
  IBAN: 'IBAN',
  IPV4: 'IPv4 address',
  IPV6: 'IPv6 address',
};
const STRONGEST_FIRST = [...SEVERITIES].reverse();

/** Previews are masked by the guard; one without a mask character is not shown at all. */
const maskedPreview = (preview: string) =>
  preview.includes('*') ? `<code>${esc(preview)}</code>` : '<span class="muted">(hidden)</span>';

const STATUS_LABEL: Record<string, string> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  RUNNING: 'running',
  TIMED_OUT: 'timed out',
  ABORTED: 'aborted',
};
const OUTCOME_LABEL: Record<string, string> = {
  succeeded: 'succeeded',
  caught: 'error, caught',
  failed: 'failed',
  running: 'running',
};
const OUTCOME_CLASS: Record<string, string> = {
  succeeded: 'pass',
  caught: 'fail',
  failed: 'fail',
  running: 'info',
};

function timelineSection(run: RunView): string {
  const t0 = run.startDate;
  const end = Math.max(run.stopDate ?? Date.now(), ...run.timeline.map((s) => s.exitedAt ?? s.enteredAt));
  const total = Math.max(1, end - t0);
  const rows = run.timeline
    .map((span, i) => {
      const left = ((span.enteredAt - t0) / total) * 100;
      const width = Math.max(0.4, ((span.durationMs ?? end - span.enteredAt) / total) * 100);
      const cls = OUTCOME_CLASS[span.outcome] ?? 'info';
      return `<tr class="state ${esc(span.outcome)}" data-state="${esc(span.name)}">
<td class="num muted">${i + 1}</td>
<td><strong>${esc(span.name)}</strong>${span.error ? `<div class="error-name">${esc(span.error)}</div>` : ''}${span.retries ? `<div class="retried muted small">retried ${span.retries}× after ${esc((span.retriedErrors ?? []).join(', '))}</div>` : ''}</td>
<td>${pill(cls, OUTCOME_LABEL[span.outcome] ?? span.outcome)}</td>
<td class="num muted">+${esc(formatMs(Math.max(0, span.enteredAt - t0)))}</td>
<td class="num">${span.durationMs !== undefined ? esc(formatMs(span.durationMs)) : '…'}</td>
<td class="bar"><div class="track"><div class="fill ${cls}" style="margin-left:${Math.min(left, 99.6).toFixed(2)}%;width:${Math.min(width, 100 - Math.min(left, 99.6)).toFixed(2)}%"></div></div></td></tr>`;
    })
    .join('\n');
  return `<table id="timeline" class="timeline"><thead><tr><th class="num">#</th><th>State</th><th>Outcome</th><th class="num">Start</th><th class="num">Duration</th><th class="bar"><div class="scale"><span>0</span><span>${esc(formatMs(total))}</span></div></th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

function bucketSection(run: RunView): string {
  const { rules, from } = bucketRulesOf(run);
  if (from === 'none') return '<p class="muted">Not reached.</p>';
  const byBucket = new Map<string, RuleResult[]>();
  for (const r of rules) byBucket.set(r.bucket, [...(byBucket.get(r.bucket) ?? []), r]);
  const rows = [...byBucket]
    .map(([bucket, list]) =>
      list
        .map(
          (r, i) =>
            `<tr class="rule ${r.passed ? 'pass' : 'fail'}" data-rule="${esc(r.rule)}">${i === 0 ? `<td rowspan="${list.length}" class="mono bucket">s3://${esc(bucket)}</td>` : ''}<td class="nowrap"><code>${esc(r.rule)}</code></td><td>${pill(r.passed ? 'pass' : 'fail', r.passed ? 'passed' : 'failed')}</td><td>${esc(r.detail)}</td></tr>`,
        )
        .join(''),
    )
    .join('');
  const failed = rules.filter((r) => !r.passed).length;
  const note =
    from === 'refusal'
      ? `<p class="note">The run was refused: <code>BucketNotCompliantError</code> carried every rule the check evaluated, and ${failed} of the ${rules.length} are broken.</p>`
      : `<p class="muted">${rules.length - failed} of ${rules.length} rules passed.</p>`;
  return `<table id="bucket-rules"><thead><tr><th>Bucket</th><th>Rule</th><th>Result</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>${note}`;
}

function keySection(d: ReportData): string {
  const key = d.summary.run.state.key as { keyArn?: string; alias?: string } | undefined;
  const checks = keyChecksOf(d);
  const rows = checks
    .map(
      (c) =>
        `<tr class="check ${c.status}"><td class="nowrap">${esc(c.name)}</td><td>${pill(c.status, { pass: 'passed', fail: 'failed', warn: 'warning', skip: 'n/a' }[c.status])}</td><td class="detail">${esc(c.detail)}</td></tr>`,
    )
    .join('');
  return `${key?.keyArn ? `<dl class="kv"><dt>Key</dt><dd>${mono(key.keyArn)}</dd><dt>Alias</dt><dd>${mono(key.alias)}</dd></dl>` : ''}
<table id="key-checks"><thead><tr><th>Check</th><th>Result</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function guardSection(d: ReportData): string {
  const s = d.summary;
  const run = s.run;
  const verdict = guardVerdictOf(run);
  const findings = guardFindingsOf(run);
  const g = d.guard;
  if (!verdict && !g) {
    return ['SensitiveDataError', 'InvalidTrainingDataError'].includes(s.error ?? '')
      ? `<p class="fail">${esc(s.cause)}</p>`
      : '<p class="muted">Not reached.</p>';
  }
  const records = g?.records ?? field<number>(run.state, 'scan', 'records');
  const policy = g?.policy ?? field(run.state, 'dataset', 'dataPolicy', 'policy');
  const sha = field(run.state, 'scan', 'sha256');
  const verdictClass = verdict === 'pass' ? 'pass' : verdict === 'redact' ? 'warn' : 'fail';
  const head = `<div class="facts">
<div><span class="label">Verdict</span>${pill(verdictClass, verdict ?? 'unknown')}</div>
<div><span class="label">Findings</span><strong>${esc(findings ?? '—')}</strong></div>
<div><span class="label">Records</span><strong>${esc(records ?? '—')}</strong></div>
${policy ? `<div><span class="label">Policy</span><strong>${esc(policy)}</strong></div>` : ''}
${g?.suppressed ? `<div><span class="label">Allow-listed</span><strong>${esc(g.suppressed)}</strong></div>` : ''}
</div>${sha ? `<p class="muted small">sha256 <code>${esc(sha)}</code></p>` : ''}`;

  const byType: Record<string, number> = {
    ...(field<Record<string, number>>(run.state, 'scan', 'byType') ?? {}),
    ...(g?.counts?.byType ?? {}),
  };
  const listed = g?.findings ?? [];
  const typeRows = Object.entries(byType)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([type, count]) => {
      const mine = listed.filter((f) => f.type === type);
      const severity =
        STRONGEST_FIRST.find((sev) => mine.some((f) => f.severity === sev)) ?? (mine[0]?.severity || '—');
      const samples = mine
        .slice(0, 3)
        .map(
          (f) =>
            `<div class="sample">${maskedPreview(f.preview)} <span class="muted">line ${esc(f.line)}${f.field ? ` · ${esc(f.field)}` : ''}</span></div>`,
        )
        .join('');
      return `<tr class="finding-type" data-type="${esc(type)}"><td><strong>${esc(FINDING_LABELS[type as FindingType] ?? type)}</strong><div class="muted small"><code>${esc(type)}</code></div></td><td>${pill(`sev-${severity}`, severity)}</td><td class="num">${esc(count)}</td><td>${samples || '<span class="muted">—</span>'}</td></tr>`;
    })
    .join('');
  const typesTable = typeRows
    ? `<h3>Findings by type</h3><table id="findings-by-type"><thead><tr><th>Type</th><th>Severity</th><th class="num">Count</th><th>Examples (masked)</th></tr></thead><tbody>${typeRows}</tbody></table>`
    : '<p class="muted">No secrets or personal data found.</p>';
  const all = listed.length
    ? `<details><summary>All ${listed.length} listed finding${listed.length === 1 ? '' : 's'} (masked)</summary><table id="findings"><thead><tr><th>Type</th><th>Severity</th><th class="num">Line</th><th>Field</th><th>Preview (masked)</th></tr></thead><tbody>${listed
        .map(
          (f) =>
            `<tr><td><code>${esc(f.type)}</code></td><td>${esc(f.severity)}</td><td class="num">${esc(f.line)}</td><td>${esc(f.field ?? '')}</td><td>${maskedPreview(f.preview)}</td></tr>`,
        )
        .join('')}</tbody></table></details>`
    : '';
  const problems = (g?.problems ?? []).filter((p) => p.level === 'error');
  const problemList = problems.length
    ? `<h3>Format problems</h3><ul class="problems">${problems
        .slice(0, 20)
        .map(
          (p) =>
            `<li>${p.line ? `<span class="muted">line ${esc(p.line)}</span> ` : ''}${esc(p.reason)}</li>`,
        )
        .join('')}</ul>`
    : '';
  const outcome =
    s.error === 'SensitiveDataError'
      ? '<p class="note">Blocked: the object is quarantined and no job was submitted.</p>'
      : s.error === 'InvalidTrainingDataError'
        ? '<p class="note">Refused: the data is not valid for the base model; no job was submitted.</p>'
        : policy === 'report' && (findings ?? 0) > 0
          ? '<p class="note">Policy <code>report</code>: findings are reported, not blocked or redacted — the job trained on the data as uploaded.</p>'
          : verdict === 'redact'
            ? '<p class="note">Redacted: the job trained on a sanitized copy written under the customer managed key.</p>'
            : '';
  return `${head}${outcome}${typesTable}${all}${problemList}${d.guardReportUri ? `<p class="muted small">Full report (masked): <span class="mono">${esc(d.guardReportUri)}</span></p>` : ''}`;
}

function tagsSection(s: RunSummary): string {
  const tags = Object.entries(s.modelTags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (tags.length === 0) return '<p class="muted">No model.</p>';
  return `<table id="model-tags"><thead><tr><th>Tag</th><th>Value</th></tr></thead><tbody>${tags
    .map(([k, v]) => `<tr><td class="nowrap"><code>${esc(k)}</code></td><td class="mono">${esc(v)}</td></tr>`)
    .join('')}</tbody></table>`;
}

function remediationSection(run: RunView): string {
  const r = run.state.remediation as
    | { outcome?: string; actions?: { action: string; target: string }[]; notes?: string[] }
    | undefined;
  if (!r) return '';
  // Remediation that failed says why (RemediationFailed keeps the error beside its empty result).
  const err = run.state.remediationError as { Error?: string; Cause?: string } | undefined;
  const why = err?.Error
    ? `<p class="fail" id="remediation-error"><strong>${esc(err.Error)}</strong> — ${esc(stepFailureOf(err.Error, err.Cause).message)}</p>`
    : '';
  const actions = (r.actions ?? [])
    .map((a) => `<li><strong>${esc(a.action)}</strong> <span class="mono">${esc(a.target)}</span></li>`)
    .join('');
  const notes = (r.notes ?? []).map((n) => `<li class="muted">${esc(n)}</li>`).join('');
  return `<p>Outcome ${pill(r.outcome === 'remediated' ? 'warn' : 'fail', r.outcome ?? 'unknown')}</p>${why}${actions || notes ? `<ul class="actions">${actions}${notes}</ul>` : '<p class="muted">Nothing to undo.</p>'}`;
}

const CSS = `
:root{--fg:#18202b;--muted:#5d6877;--line:#e4e8ee;--bg:#f4f6f9;--card:#fff;--pass:#17803d;--pass-bg:#e3f5e9;--fail:#b42318;--fail-bg:#fde8e6;--warn:#9a5b00;--warn-bg:#fff3d6;--info:#1f4fb8;--info-bg:#e6eefc}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14.5px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
main{max-width:1040px;margin:0 auto;padding:28px 24px 48px}
header.top{margin-bottom:18px}
.eyebrow{font-size:12px;letter-spacing:.08em;text-transform:uppercase;color:var(--muted);font-weight:600}
h1{font-size:26px;line-height:1.25;margin:4px 0 6px;font-weight:700;display:flex;align-items:center;gap:12px;flex-wrap:wrap}
h2{font-size:17px;margin:0 0 14px;font-weight:650}
h3{font-size:14px;margin:18px 0 8px;font-weight:650;color:#2c3746}
.sub{color:var(--muted);margin:0}
section.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 22px;margin:16px 0;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin:18px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.stat .label,.facts .label{display:block;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-weight:600;margin-bottom:2px}
.stat .value{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}
.facts{display:flex;gap:28px;flex-wrap:wrap;margin-bottom:6px}.facts strong{font-size:16px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;text-align:left;padding:6px 10px;border-bottom:1px solid var(--line)}
td{padding:8px 10px;border-bottom:1px solid var(--line);vertical-align:top}
tbody tr:last-child td{border-bottom:0}
tbody tr:hover td{background:#fafbfc}
.num{text-align:right;white-space:nowrap}.nowrap{white-space:nowrap}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.mono{word-break:break-all}
code{background:#f1f3f6;border-radius:4px;padding:1px 5px}
td.bucket{white-space:nowrap;font-weight:600;background:#fbfcfd}
.muted{color:var(--muted)}.small{font-size:12.5px}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:650;line-height:20px;white-space:nowrap}
.pill.pass,.pill.SUCCEEDED{background:var(--pass-bg);color:var(--pass)}
.pill.fail,.pill.FAILED,.pill.TIMED_OUT,.pill.ABORTED,.pill.sev-critical,.pill.sev-high{background:var(--fail-bg);color:var(--fail)}
.pill.warn,.pill.sev-medium{background:var(--warn-bg);color:var(--warn)}
.pill.info,.pill.RUNNING,.pill.sev-low{background:var(--info-bg);color:var(--info)}
.pill.skip{background:#eef0f3;color:var(--muted)}
h1 .pill{font-size:14px;padding:3px 12px}
.timeline .scale{display:flex;justify-content:space-between;font-weight:500;text-transform:none;letter-spacing:0}
.timeline td.bar,.timeline th.bar{width:38%}
.track{position:relative;height:12px;background:#f0f2f5;border-radius:6px;margin-top:4px}
.fill{height:12px;border-radius:6px;background:#3b6fd8;min-width:3px}
.fill.fail{background:#d9473b}.fill.info{background:#8aa6e8}
.error-name{color:var(--fail);font-size:12.5px;font-weight:600}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0 0 12px}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;min-width:0}
.callout{border-radius:8px;padding:10px 14px;margin:12px 0}.callout.fail{background:var(--fail-bg);color:#7a1a12}.callout.warn{background:var(--warn-bg);color:#6b3f00}.callout ul{margin:6px 0 0;padding-left:20px}
.note{background:#f6f8fb;border-left:3px solid #9aa9bd;padding:8px 12px;color:#334155;margin:12px 0 0}
.sample{margin:1px 0}
details{margin-top:12px}summary{cursor:pointer;color:var(--info);font-weight:600}
ul.actions,ul.problems{margin:6px 0;padding-left:20px}
.fail{color:var(--fail)}
svg.chart{width:100%;height:auto;display:block}
svg.chart .grid{stroke:#e9edf2;stroke-width:1}
svg.chart .axis line{stroke:#8a96a6;stroke-width:1.2}
svg.chart text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#4a5566;font-size:12px}
svg.chart .axis-title{font-size:12.5px;font-weight:600;fill:#2c3746}
svg.chart .legend rect{fill:#fff;fill-opacity:.92;stroke:#dfe4ea}
svg.chart .legend text{font-size:12.5px;fill:#18202b}
svg.chart .point{stroke:#fff;stroke-width:1.5}
footer{color:var(--muted);font-size:12.5px;margin-top:24px;text-align:center}
@media print{body{background:#fff}section.card,.stat{box-shadow:none;break-inside:avoid}}
`;

export function renderReport(d: ReportData): string {
  const s = d.summary;
  const run = s.run;
  const t0 = run.startDate;
  const name = (field(run.input, 'source', 'key') ?? s.source).split('/').pop() ?? s.source;
  const verdict = guardVerdictOf(run);
  const findings = guardFindingsOf(run);
  const jobMs = d.job?.durationMs ?? jobWaitMs(run);
  const lastValidation = d.validation[d.validation.length - 1]?.loss;
  const stats: [string, string][] = [
    ['Status', pill(s.status, STATUS_LABEL[s.status] ?? s.status)],
    ['Total duration', esc(s.durationMs !== undefined ? formatMs(s.durationMs) : 'running')],
    ['Job duration', esc(jobMs !== undefined ? formatMs(jobMs) : '—')],
    [
      'Data guard',
      verdict
        ? `${esc(verdict)}${findings !== undefined ? ` <span class="muted small">· ${esc(findings)} finding${findings === 1 ? '' : 's'}</span>` : ''}`
        : '—',
    ],
    [
      'Final loss',
      s.trainingLoss !== undefined
        ? `${esc(s.trainingLoss.toFixed(3))}${lastValidation !== undefined ? ` <span class="muted small">· val ${esc(lastValidation.toFixed(3))}</span>` : ''}`
        : '—',
    ],
  ];
  const error = s.error
    ? `<div class="callout fail" id="run-error"><strong>${esc(s.error)}</strong> — ${esc(s.cause)}</div>`
    : '';
  const remediation = remediationSection(run);
  const gaps = d.gaps.length
    ? `<div class="callout warn" id="report-gaps"><strong>Not shown: the report could not read</strong><ul>${d.gaps
        .map((g) => `<li><span class="mono">${esc(g.what)}</span> — ${esc(g.error)}</li>`)
        .join('')}</ul></div>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TuneVault run · ${esc(name)} · ${esc(STATUS_LABEL[s.status] ?? s.status)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style></head><body><main>
<header class="top">
<div class="eyebrow">TuneVault run report</div>
<h1>${esc(name)} ${pill(s.status, STATUS_LABEL[s.status] ?? s.status)}</h1>
<p class="sub"><span class="mono">${esc(s.source)}</span> · started ${esc(utc(t0))} · ${run.transitions} state transitions</p>
</header>
<div class="grid" id="overview">${stats.map(([k, v]) => `<div class="stat"><span class="label">${esc(k)}</span><div class="value">${v}</div></div>`).join('')}</div>
${error}
${gaps}
${remediation ? `<section class="card" id="remediation"><h2>Remediation</h2>${remediation}</section>` : ''}
<section class="card" id="resources"><h2>Resources</h2><dl class="kv">
<dt>Source object</dt><dd>${mono(s.source)}</dd>
<dt>Execution</dt><dd>${mono(s.executionArn)}</dd>
<dt>Customization job</dt><dd>${mono(s.jobArn)}${d.job?.status ? ` ${pill(d.job.status === 'Completed' ? 'pass' : d.job.status === 'InProgress' ? 'info' : 'fail', d.job.status)}` : ''}${d.job?.customizationType ? ` <span class="muted small">${esc(d.job.customizationType)}</span>` : ''}${d.job?.statusDetails ? `<div class="muted small" id="job-status-details">${esc(d.job.statusDetails)}</div>` : ''}${d.job?.failureMessage ? `<div class="small" id="job-failure-message">Bedrock: ${esc(d.job.failureMessage)}</div>` : ''}</dd>
<dt>Custom model</dt><dd>${mono(s.modelArn)}</dd>
<dt>Customer managed key</dt><dd>${mono(s.kmsKeyArn)}</dd>
<dt>Model encrypted with</dt><dd>${mono(s.modelKmsKeyArn)}</dd>
</dl></section>
<section class="card" id="timeline-section"><h2>State timeline</h2>${timelineSection(run)}</section>
<section class="card" id="buckets"><h2>Bucket checks</h2>${bucketSection(run)}</section>
<section class="card" id="key"><h2>Customer managed key</h2>${keySection(d)}</section>
<section class="card" id="guard"><h2>Data guard</h2>${guardSection(d)}</section>
<section class="card" id="loss"><h2>Loss</h2>${
    lossChartSvg([
      { name: 'Training loss', color: '#2f6bd8', points: d.training },
      { name: 'Validation loss', color: '#e8710a', points: d.validation },
    ]) ||
    `<p class="muted">${s.jobArn ? 'The job wrote no metrics.' : 'No customization job ran, so there are no loss curves.'}</p>`
  }</section>
<section class="card" id="tags"><h2>Model tags</h2>${tagsSection(s)}</section>
<footer>Generated ${esc(utc(d.generatedAt))} by <code>tunevault report</code> from the run's Step Functions history, the data guard's report and the job's metrics. This file needs no network.</footer>
</main></body></html>
`;
}
