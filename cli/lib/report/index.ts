/**
 * The run report, in four steps: collect (the run and what the gateways read of it), checks (the
 * steps' own rules applied to that data), chart (the loss curves) and html (one self-contained
 * page); this module writes the page, after checking that nothing in it reaches the network.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CliClients } from '../clients';
import type { RunSummary } from '../drop';
import { collectReportData } from './collect';
import { renderReport } from './html';

export { describeJob } from './collect';

export const REPORT_DIR = path.join(process.cwd(), '.tunevault', 'reports');

/** Everything in an HTML file that would make a browser reach the network when it opens it. */
export function networkReferences(html: string): string[] {
  const patterns = [
    /\b(?:src|href|srcset|poster|action|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\/[^"'\s>]*/gi,
    /<script\b[^>]*\bsrc\s*=[^>]*>/gi,
    /<link\b[^>]*>/gi,
    /<(?:iframe|object|embed)\b[^>]*>/gi,
    /@import[^;]*;?/gi,
    /url\(\s*["']?\s*(?:https?:)?\/\/[^)]*\)/gi,
  ];
  return patterns.flatMap((p) => [...html.matchAll(p)].map((m) => m[0]));
}

export class ReportNotSelfContainedError extends Error {
  override readonly name = 'ReportNotSelfContainedError';
}

export async function writeRunReport(c: CliClients, summary: RunSummary, out?: string): Promise<string> {
  const file = out ?? path.join(REPORT_DIR, `${summary.run.name}.html`);
  const html = renderReport(await collectReportData(c, summary));
  // Everything in it is escaped, so this cannot happen through data; it guards the template.
  const refs = networkReferences(html);
  if (refs.length > 0)
    throw new ReportNotSelfContainedError(
      `the report would reach the network: ${refs.slice(0, 3).join(', ')}`,
    );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, html);
  return file;
}
