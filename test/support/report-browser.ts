// Opening a report from file:// in real Chromium, recording what the page must not do: console errors, page
// errors, and requests that leave the file system.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from './tiny-config.ts';

/** Where screenshots are kept for a person to look at (CI can collect the folder). */
export const SCREENSHOTS = join(PROJECT_ROOT, 'test-output');

export interface OpenedReport {
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  /** Requests for anything but file:// URLs. */
  network: string[];
  /** Milliseconds from navigation to the load event. */
  loadMs: number;
}

export async function openReport(browser: Browser, url: string): Promise<OpenedReport> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const network: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith('file://')) network.push(request.url());
  });
  const started = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, network, loadMs: Date.now() - started };
}

/** Pixels of the chart's canvas that are drawn on (not transparent): a rendered chart has thousands. */
export function chartInk(page: Page, selector: string): Promise<number> {
  return page
    .locator(`${selector} canvas`)
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
      return ink;
    });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}
