/**
 * The system's Chromium (Debian's `chromium` package) driven by puppeteer-core: nothing downloads a
 * browser. With CI=true a missing Chromium is an error, never a skip.
 */
import { accessSync, constants } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'

/** Where the browser tests save their screenshots (kept by CI as artifacts; .tap/ is not committed). */
export const SCREENSHOT_DIR = join(process.cwd(), '.tap', 'ui-screenshots')

/** false when Chromium is installed, else the skip reason. */
export function chromiumMissing(): string | false {
  try {
    accessSync(CHROMIUM_BIN, constants.X_OK)
    return false
  } catch {
    const reason = `Chromium not found at ${CHROMIUM_BIN} (apt-get install -y chromium, or set CHROMIUM_BIN)`
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`)
    return reason
  }
}

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--js-flags=--expose-gc'],
    defaultViewport: { width: 1280, height: 800 },
  })
}

export interface PageProblems {
  /** console errors, uncaught exceptions and CSP violations the page reported */
  list: string[]
}

/** A new page whose errors (console, exceptions, CSP violations) are collected for assertions. */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage()
  const problems: PageProblems = { list: [] }
  page.on('console', (m) => {
    if (m.type() === 'error') problems.list.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (err) => problems.list.push(`exception: ${err instanceof Error ? err.message : String(err)}`))
  return { page, problems }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) as `${string}.png`, fullPage: true })
}
