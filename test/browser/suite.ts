/**
 * What every browser test file starts once: a local `wrangler dev` worker (local-worker.ts) and
 * a headless Chromium (chromium.ts), stopped after the file. Call it inside the `describe`.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { launchChromium } from "./chromium";
import { type LocalWorker, startLocalWorker } from "./local-worker";

export function workerAndBrowser(stepTimeoutMs: number): () => { worker: LocalWorker; browser: Browser } {
  let worker: LocalWorker | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    worker = await startLocalWorker();
    const launched = await launchChromium(stepTimeoutMs);
    browser = launched.browser;
    console.info(`browser tests use the ${launched.source} Chromium ${browser.version()} (${launched.executablePath})`);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });

  return () => {
    if (!worker || !browser) throw new Error("the local worker or Chromium did not start");
    return { worker, browser };
  };
}
