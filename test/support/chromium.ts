// Debian's Chromium for tests in a real browser (driven by playwright-core, which downloads no browser).
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));

/** The browser's executable, or why there is none (the reason a test skips with). */
export function findChromium(): { path: string } | { missing: string } {
  const path = CANDIDATES.find((candidate) => existsSync(candidate));
  return path ? { path } : { missing: `no Chromium at ${CANDIDATES.join(' or ')} (apt-get install chromium, or set CHROMIUM_PATH)` };
}

export async function launchChromium(path: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
