/**
 * The web console's Keys and Watch views driven as a user drives them (puppeteer-core): the browser tests
 * and the bench's console section take the same steps, so that the bench times what the tests check.
 * Waits poll on DOM mutations, so that they end as soon as the page shows what they wait for.
 */
import type { Page } from 'puppeteer-core'

/** The flat list of keys (not the tree). */
export async function chooseFlat(page: Page): Promise<void> {
  if (!(await page.$('input[name="key-layout"][value="flat"]:checked'))) await page.click('input[name="key-layout"][value="flat"]')
}

/** Types `prefix` in the search box, not sent yet. */
export async function typeSearch(page: Page, prefix: string): Promise<void> {
  await page.locator('#key-search').fill(prefix)
}

/** Types `prefix` in the search box and sends it (Enter); resolves once it is sent, not when it shows. */
export async function search(page: Page, prefix: string): Promise<void> {
  await typeSearch(page, prefix)
  await page.keyboard.press('Enter')
}

/** Until the list shows `key` first. */
export async function firstEntryShown(page: Page, key: string): Promise<void> {
  await page.waitForFunction((k) => document.querySelector('ul.entries li:first-child button')?.textContent === k, { polling: 'mutation' }, key)
}

/** The labels of the entries the list shows, in order. */
export function shownEntries(page: Page): Promise<string[]> {
  return page.$$eval('ul.entries li button', (bs) => bs.map((b) => b.textContent ?? ''))
}

/** Clicks Next page. */
export async function nextPage(page: Page): Promise<void> {
  await page.click('.pager button:last-child')
}

/** Opens the Watch view of the console at `base` and watches `prefix`, until the view says it is watching. */
export async function watchPrefix(page: Page, base: string, prefix: string): Promise<void> {
  await page.goto(`${base}/ui/#/watch`)
  await page.waitForSelector('#watch-key')
  await page.locator('#watch-key').fill(prefix)
  await page.locator('.watch button[type="submit"]').click()
  await page.waitForFunction(() => document.querySelector('.watch .summary')?.textContent?.startsWith('Watching'))
}

/** Until the newest event the watch shows is one on `key`. */
export async function newestEventShown(page: Page, key: string): Promise<void> {
  await page.waitForFunction((k) => document.querySelector('.events tbody tr td:nth-child(3)')?.textContent === k, { polling: 'mutation' }, key)
}
