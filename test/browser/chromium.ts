/**
 * A headless Chromium for the browser tests on any machine that ran `npm install`:
 * the system's Chromium when one is installed and launches (Debian's `chromium`, or the
 * binary named by CHROMIUM_PATH), else the one shipped inside the `@sparticuz/chromium`
 * npm package, so a machine with only Node and npm needs no apt and no browser download.
 */
import { access, constants } from "node:fs/promises";
import packagedChromium from "@sparticuz/chromium";
import { type Browser, chromium } from "playwright-core";

const SYSTEM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * @sparticuz/chromium's defaults are made for AWS Lambda and include flags that switch web
 * security off; the tests check CSP and same-origin behaviour, so those are left out.
 */
const WEAKENING_ARGS = new Set(["--disable-web-security", "--allow-running-insecure-content", "--disable-site-isolation-trials"]);

export interface LaunchedChromium {
  browser: Browser;
  /** Which binary runs, for the test log. */
  source: "system" | "packaged";
  executablePath: string;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function launchChromium(timeoutMs: number): Promise<LaunchedChromium> {
  const candidates = [process.env.CHROMIUM_PATH, ...SYSTEM_CANDIDATES].filter((p): p is string => Boolean(p));
  const systemFailures: string[] = [];
  for (const executablePath of candidates) {
    if (!(await isExecutable(executablePath))) continue;
    try {
      const browser = await chromium.launch({ executablePath, headless: true, args: COMMON_ARGS, timeout: timeoutMs });
      return { browser, source: "system", executablePath };
    } catch (error) {
      // A wrapper script whose real binary is missing (or a broken install): try the next one.
      systemFailures.push(`${executablePath}: ${String(error).split("\n")[0]}`);
    }
  }
  const executablePath = await packagedChromium.executablePath();
  const args = [...new Set([...COMMON_ARGS, ...packagedChromium.args])].filter((arg) => !WEAKENING_ARGS.has(arg));
  try {
    const browser = await chromium.launch({ executablePath, headless: true, args, timeout: timeoutMs });
    return { browser, source: "packaged", executablePath };
  } catch (error) {
    const tried = systemFailures.length > 0 ? ` (system Chromium failed too: ${systemFailures.join("; ")})` : "";
    throw new Error(`could not launch the packaged Chromium at ${executablePath}${tried}`, { cause: error });
  }
}
