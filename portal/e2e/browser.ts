// Debian's Chromium for the journeys (portal/e2e, plugins/backstage-frontend/dev), driven by playwright-core.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where journeys leave their screenshots (the repository's test-results/). */
export const SHOTS = path.resolve(import.meta.dirname, '..', '..', 'test-results');
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Why the browser journeys cannot run here, or undefined when they can. In CI a missing browser is a
 * failure, not a skip (the caller throws).
 */
export function unavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;
  return undefined;
}

/** Headless Chromium with the flags every journey uses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}
