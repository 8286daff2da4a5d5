/**
 * The run report as an operator sees it: rendered by Debian's headless Chromium (driven by
 * playwright-core, never a downloaded browser), with the loss chart and the timeline on screen,
 * no request leaving the file, and a full-page screenshot kept in test-artifacts/.
 *
 * Chromium is a system package: `.ci/run` installs it (apt-get), a test never does. Where it is
 * missing the test is skipped, visibly: Jest counts it as skipped and its title says why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarizeRun } from '../../cli/lib/drop';
import { writeRunReport } from '../../cli/lib/report';
import type { RunView } from '../../cli/lib/run-view';
import { chat, DATA, type Harness, startHarness, TEST_PARAMS } from './support/embedded';

jest.setTimeout(90_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const EXAMPLES = path.join(__dirname, '..', '..', 'examples', 'demo');

const missing = fs.existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} not found: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`;
if (missing) console.warn(`report-browser.test: SKIPPED — ${missing}`);
const describeInBrowser = missing ? describe.skip : describe;

describeInBrowser(`the run report in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let h: Harness;
  let run: RunView;
  let file: string;

  beforeAll(async () => {
    h = await startHarness({ params: TEST_PARAMS.eventPath });
    const data =
      fs.readFileSync(path.join(EXAMPLES, 'support-chat.jsonl'), 'utf8') +
      DATA +
      `${JSON.stringify(chat('Customer: I pasted AKIAZ7Q3XK2M4PLN8WRT by mistake, and mail me at jane.doe@acme-corp.io\nAgent:', ' Rotate that key now; I will write to you shortly.'))}\n`;
    await h.put(
      'validation/browser report.jsonl',
      fs.readFileSync(path.join(EXAMPLES, 'support-chat.validation.jsonl')),
    );
    // Resumed by the job's event, so the timeline holds one WaitForJob (no poll) with a long bar.
    ({ run } = await h.dropResumedByEvent('browser report', data, {
      dataPolicy: { policy: 'report' },
      validationKey: 'validation/browser report.jsonl',
    }));
    expect(run.status).toBe('SUCCEEDED');
    file = await writeRunReport(h.c, await summarizeRun(h.c, run), path.join(ARTIFACTS, 'report.html'));
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('draws the loss chart and the timeline, reaches no network, and keeps a screenshot', async () => {
    const { chromium } = await import('playwright-core');
    const b = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await b.newPage({ viewport: { width: 1200, height: 900 } });
      const external: string[] = [];
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        external.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

      // The chart: training and validation polylines with real extent, axes and a legend.
      const series = page.locator('#loss-chart polyline.series');
      expect(await series.count()).toBe(2);
      for (const name of ['Training loss', 'Validation loss']) {
        const line = page.locator(`#loss-chart polyline[data-series="${name}"]`);
        const points = ((await line.getAttribute('points')) ?? '').trim().split(/\s+/);
        expect(points.length).toBeGreaterThanOrEqual(2);
        const box = await line.boundingBox();
        expect(box?.width).toBeGreaterThan(200);
      }
      expect(await page.locator('#loss-chart .axis.x').isVisible()).toBe(true);
      expect(await page.locator('#loss-chart .axis.y').isVisible()).toBe(true);
      expect(await page.locator('#loss-chart .legend').textContent()).toMatch(
        /Training loss.*Validation loss/,
      );
      const chart = await page.locator('#loss-chart').boundingBox();
      expect(chart?.width).toBeGreaterThan(600);
      expect(chart?.height).toBeGreaterThan(200);

      // The timeline: a row per state, in order, each with a visible bar.
      const rows = page.locator('#timeline tbody tr');
      expect(await rows.count()).toBe(run.timeline.length);
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-state')))).toEqual(
        run.timeline.map((s) => s.name),
      );
      expect(await page.locator('#timeline').isVisible()).toBe(true);
      const bar = await page.locator('#timeline tr[data-state="WaitForJob"] .fill').boundingBox();
      expect(bar?.width).toBeGreaterThan(2);

      // Findings are on the page, masked.
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).toContain('AWS access key ID');
      expect(text).not.toContain('AKIAZ7Q3XK2M4PLN8WRT');
      expect(text).not.toContain('jane.doe@acme-corp.io');

      expect(external).toEqual([]);
      expect(pageErrors).toEqual([]);

      const shot = path.join(ARTIFACTS, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await b.close();
    }
  });
});
