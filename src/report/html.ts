// The static files every report page is made of: index.html, which loads data.js (the page's data as a
// global, since file:// pages cannot fetch JSON) and then the page's bundled script.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPORT_GLOBAL, type RunReportData, type SweepReportData } from './report-data.ts';
import { STYLESHEET } from './bundle.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);

/** Writes index.html and data.js into `outDir`; `assets` is the folder of the bundled scripts, relative to it. */
export function writePage(outDir: string, data: RunReportData | SweepReportData, assets: string, script: string): string {
  // JSON is JavaScript, except that "</script>" or U+2028 inside strings would end the tag or the line early in old parsers.
  const json = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  writeFileSync(join(outDir, 'data.js'), `window.${REPORT_GLOBAL} = ${json};\n`);
  const title = data.kind === 'run' ? `${data.experiment} / ${data.runId}` : `${data.experiment} / ${data.sweepId}`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dcgan-run report">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${assets}/${STYLESHEET}">
</head>
<body>
<main id="report"><p class="loading">Loading the report...</p></main>
<script src="data.js"></script>
<script src="${assets}/${script}"></script>
</body>
</html>
`;
  const index = join(outDir, 'index.html');
  writeFileSync(index, html);
  return index;
}
