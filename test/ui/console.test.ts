/**
 * The web console in a real browser (the system's Chromium), against one `etcdgw serve` shared by every
 * case: plain HTTP for the browser, and an HTTPS listener whose certificate expires in 20 days, so that
 * the certificate table has something to warn about. Cases run in order and build on each other's keys.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HTTPRequest, Page } from 'puppeteer-core'
import t, { type Test } from 'tap'
import { DEFAULT_CA_VALIDITY_MS, filesOf, initPki } from '../../pki/index.js'
import { chromiumMissing, launchBrowser, openPage, screenshot } from '../helpers/browser.js'
import { chooseFlat, firstEntryShown, newestEventShown, nextPage, search, shownEntries, watchPrefix } from '../helpers/console-page.js'
import { startServe } from '../helpers/serve-process.js'
import { etcdgw } from '../helpers/snapshot-workload.js'

const DAY = 86_400_000
const MILLION = 1_000_000

const missing = chromiumMissing()
if (missing) t.plan(0, missing)
else await run()

async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'etcdgw-ui-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await initPki({
    dir: join(dir, 'pki'),
    member: { nodeName: 'node-1', advertiseAddress: '127.0.0.1' },
    keyType: 'ECDSA-P256',
    certValidityMs: 20 * DAY,
    caValidityMs: DEFAULT_CA_VALIDITY_MS,
    now: new Date(),
  })
  const server = filesOf(join(dir, 'pki'), 'etcd-server')
  const serve = await startServe(t, [
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', 'http://127.0.0.1:0,https://127.0.0.1:0',
    '--cert-file', server.cert,
    '--key-file', server.key,
    '--trusted-ca-file', filesOf(join(dir, 'pki'), 'etcd-ca').cert,
    '--pki-dir', join(dir, 'pki'),
  ])
  const base = serve.url
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const { page, problems } = await openPage(browser)
  // what the page showed when a case failed
  t.afterEach(async (t) => {
    if (!t.passing()) await screenshot(page, `failed-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`)
  })

  t.test('the console loads, with no error and no CSP violation', async (t) => {
    const res = await page.goto(`${base}/ui/`, { waitUntil: 'networkidle0' })
    t.equal(res?.status(), 200)
    t.match(res?.headers()['content-security-policy'], /script-src 'self'/)
    await page.waitForSelector('nav[aria-label="Views"] a[aria-current="page"]')
    t.equal(await text(page, 'header h1'), 'etcdgw')
    t.same(await page.$$eval('nav[aria-label="Views"] a', (as) => as.map((a) => a.textContent)), ['Keys', 'Watch', 'Cluster', 'Certificates'])
    t.same(problems.list, [])
    await assertLabelled(t, page)
  })

  t.test('a hash that changes while the console starts still picks its view', async (t) => {
    // the moment the first render lands (before the app's effects run), the hash moves to #/cluster: a
    // test that goes from one origin to another and straight on to a view does exactly this
    const { page: early } = await openPage(browser)
    t.teardown(() => early.close())
    await early.evaluateOnNewDocument(() => {
      new MutationObserver((_, observer) => {
        if (!document.querySelector('nav[aria-label="Views"] a[aria-current="page"]')) return
        observer.disconnect()
        location.hash = '#/cluster'
      }).observe(document, { childList: true, subtree: true })
    })
    await early.goto(`${base}/ui/#/keys`)
    await early.waitForFunction(() => document.querySelector('nav[aria-label="Views"] a[aria-current="page"]')?.textContent === 'Cluster')
    t.equal(await early.$eval('[data-view="cluster"]', (div) => (div as HTMLElement).hidden), false, 'the cluster view is shown')
  })

  t.test('a key put over HTTP appears in the list, with its value', async (t) => {
    await putText(base, 'ui-test/curl/hello', '{"greeting":"hello","n":1}')
    await searchFlat(page, 'ui-test/curl/')
    await clickEntry(page, 'ui-test/curl/hello')
    await page.waitForSelector('.key-detail .value-text')
    t.equal(await text(page, '.key-detail .key-name'), 'ui-test/curl/hello')
    t.equal(await text(page, '.key-detail .value-text'), '{\n  "greeting": "hello",\n  "n": 1\n}', 'pretty JSON')
    await page.click('.key-detail input[name="value-view"][value="yaml"]')
    t.equal(await text(page, '.key-detail .value-text'), 'greeting: hello\nn: 1\n', 'YAML')

    const granted = Date.now()
    await call(base, 'lease/grant', { ID: '4242', TTL: 600 })
    await call(base, 'kv/put', { key: 'ui-test/curl/leased', value: 'x', lease: '4242' })
    await openKey(page, 'ui-test/curl/leased')
    await page.waitForSelector('.key-detail .ttl')
    const left = Number(/^(\d+) s left$/.exec(await text(page, '.key-detail .ttl'))?.[1])
    const since = Math.ceil((Date.now() - granted) / 1000)
    // at most the time since the grant gone (and a second of rounding, the server's and the page's)
    t.ok(left <= 600 && left >= 600 - since - 2, `the lease's time left counts down from 600 s: ${left} s, ${since} s after the grant`)
    t.match(await text(page, '.key-detail dl.meta'), /4242 \(1092\): \d+ s left of 600 s/)
  })

  t.test('a key put in the console reads back through the API', async (t) => {
    await page.locator('button::-p-text(New key)').click()
    await page.waitForSelector('#new-key')
    await page.locator('#new-key').fill('ui-test/made-in-ui')
    await page.locator('#new-value').fill('made by a browser')
    await page.click('.new-key button[type="submit"]')
    await confirmDialog(page)
    await page.waitForFunction(() => document.querySelector('.key-detail .key-name')?.textContent === 'ui-test/made-in-ui')
    t.equal(await readText(base, 'ui-test/made-in-ui'), 'made by a browser')
  })

  t.test('an edit racing a concurrent write is refused, and the other write stays', async (t) => {
    await putText(base, 'ui-test/race', 'one')
    await searchFlat(page, 'ui-test/race')
    await clickEntry(page, 'ui-test/race')
    await page.locator('.key-detail button::-p-text(Edit)').click()
    await page.waitForSelector('#edit-value')
    await page.locator('#edit-value').fill('mine')
    await putText(base, 'ui-test/race', 'theirs')
    await page.locator('.key-detail button::-p-text(Save)').click()
    await confirmDialog(page)
    await page.waitForSelector('.key-detail .error')
    const message = await text(page, '.key-detail .error')
    t.match(message, /^Not saved: ui-test\/race was changed by someone else after you read it at mod revision \d+ \(it is now at mod revision \d+, version 2\)/)
    t.equal(await readText(base, 'ui-test/race'), 'theirs', 'the concurrent write is kept')

    // Read again, the same edit goes through; history then shows all three versions and their diff.
    await page.locator('.key-detail button::-p-text(Cancel)').click()
    await page.locator('.key-detail button::-p-text(Reload)').click()
    await page.waitForFunction(() => document.querySelector('.key-detail .value-text')?.textContent === 'theirs')
    await page.locator('.key-detail button::-p-text(Edit)').click()
    await page.locator('#edit-value').fill('mine')
    await page.locator('.key-detail button::-p-text(Save)').click()
    await confirmDialog(page)
    await page.waitForSelector('.key-detail .notice')
    t.equal(await readText(base, 'ui-test/race'), 'mine')
    await page.locator('.key-detail button::-p-text(History)').click()
    await page.waitForFunction(() => document.querySelectorAll('.history tbody tr').length === 3)
    t.equal(await text(page, '.history .hint'), 'Nothing of this key has been compacted.')
    t.equal(await text(page, '.diff .removed'), '- theirs\n')
    t.equal(await text(page, '.diff .added'), '+ mine\n')
    await screenshot(page, 'keys-history')

    // an older generation, before a delete, is part of the history too
    await putText(base, 'ui-test/generations', 'first life')
    await call(base, 'kv/deleterange', { key: 'ui-test/generations' })
    await putText(base, 'ui-test/generations', 'second life')
    await openKey(page, 'ui-test/generations')
    await page.locator('.key-detail button::-p-text(History)').click()
    await page.waitForFunction(() => document.querySelectorAll('.history tbody tr').length === 3)
    t.same(await page.$$eval('.history tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent)), ['created', 'deleted', 'created'])
    t.equal(await text(page, '.diff .removed'), '- first life\n', 'the diff spans the two generations')
  })

  t.test('Kubernetes values: the protobuf envelope, JSON objects and encrypted values', async (t) => {
    await putBytes(base, '/registry/pods/default/web-0', podEnvelope())
    await putText(base, '/registry/example.com/widgets/default/w1', JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'default' }, spec: { size: 3 } }))
    await putBytes(base, '/registry/secrets/default/s1', Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), Buffer.from([0x9f, 0x00, 0xc3, 0x28, 0xff])]))

    // through the tree: / → registry/ → pods/ → default/ → web-0
    await page.click('input[name="key-layout"][value="tree"]')
    await page.locator('nav.crumbs button::-p-text((root))').click()
    for (const dir of ['/', 'registry/', 'pods/', 'default/']) await clickEntry(page, `▸ ${dir}`)
    await clickEntry(page, 'web-0')
    await page.waitForSelector('.key-detail dl.k8s')
    t.same(await definitions(page, '.key-detail dl.k8s'), {
      'Stored as': 'Kubernetes protobuf',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'default',
      name: 'web-0',
    })
    await screenshot(page, 'keys-kubernetes-protobuf')

    await openKey(page, '/registry/example.com/widgets/default/w1')
    await page.waitForSelector('.key-detail dl.k8s')
    t.same(await definitions(page, '.key-detail dl.k8s'), { 'Stored as': 'Kubernetes JSON', apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'default', name: 'w1' })
    t.match(await text(page, '.key-detail .value-text'), /^\{\n {2}"apiVersion": "example.com\/v1",/)

    await openKey(page, '/registry/secrets/default/s1')
    await page.waitForSelector('.key-detail .k8s.encrypted')
    t.match(await text(page, '.key-detail .k8s.encrypted'), /encrypted at rest \(provider aescbc, key key1\)/)
    t.match(await text(page, '.key-detail .value-text'), /^00000000 {2}6b 38 73 3a/, 'hex dump')
  })

  t.test('keyboard: the list moves with the arrow keys, the views open from the navigation', async (t) => {
    await searchFlat(page, 'ui-test/')
    const second = await text(page, 'ul.entries li:nth-child(2) button')
    await page.focus('ul.entries li:first-child button')
    await page.keyboard.press('ArrowDown')
    t.equal(await page.evaluate(() => document.activeElement?.textContent), second)
    await page.keyboard.press('Enter')
    await page.waitForFunction((k) => document.querySelector('.key-detail .key-name')?.textContent === k, {}, second)
    await page.focus('nav[aria-label="Views"] a[href="#/watch"]')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => location.hash === '#/watch')
    t.pass('Enter on a view link opens it')
    await page.goto(`${base}/ui/#/keys`)
  })

  t.test('a watch shows a put as it is made; pause holds events, resume shows them, clear empties the list', async (t) => {
    await watchPrefix(page, base, 'ui-test/watch/')
    const started = Date.now()
    await putText(base, 'ui-test/watch/a', 'first')
    await newestEventShown(page, 'ui-test/watch/a')
    t.comment(`the put shown ${Date.now() - started} ms after it was sent`)

    await page.locator('.watch button::-p-text(Pause)').click()
    await putText(base, 'ui-test/watch/b', 'while paused')
    await page.waitForFunction(() => /Resume \(1 held\)/.test(document.querySelector('.watch button[aria-pressed="true"]')?.textContent ?? ''))
    t.equal(await page.$$eval('.events tbody tr', (rows) => rows.length), 1, 'held while paused')
    await page.locator('.watch button::-p-text(Resume)').click()
    await page.waitForFunction(() => document.querySelectorAll('.events tbody tr').length === 2)
    await putText(base, 'ui-test/watch/a', 'second')
    await page.waitForFunction(() => document.querySelectorAll('.events tbody tr').length === 3)
    t.same(await page.$$eval('.events tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent)), ['ui-test/watch/a', 'ui-test/watch/b', 'ui-test/watch/a'])
    await assertLabelled(t, page)
    await screenshot(page, 'watch')
    await page.locator('.watch button::-p-text(Clear)').click()
    t.equal(await page.$$eval('.events tbody tr', (rows) => rows.length), 0, 'cleared')
  })

  t.test('a watch whose connection is cut resumes after the last revision shown: no gap, no duplicate', async (t) => {
    const proxy = await startCuttableProxy(new URL(base).port)
    t.teardown(() => proxy.close())
    await watchPrefix(page, `http://127.0.0.1:${proxy.port}`, 'ui-test/resume/')
    await putText(base, 'ui-test/resume/k', 'before')
    await page.waitForFunction(() => document.querySelectorAll('.events tbody tr').length === 1)

    proxy.cut(true)
    await page.waitForFunction(() => document.querySelector('.watch .summary')?.textContent?.startsWith('Connection lost'))
    for (const v of ['during-1', 'during-2', 'during-3']) await putText(base, 'ui-test/resume/k', v)
    proxy.cut(false)
    await page.waitForFunction(() => document.querySelectorAll('.events tbody tr').length >= 4 && document.querySelector('.watch .summary')?.textContent?.startsWith('Watching'))
    await putText(base, 'ui-test/resume/k', 'after')
    await page.waitForFunction(() => document.querySelectorAll('.events tbody tr').length >= 5)
    const values = await page.$$eval('.events tbody tr td.value-cell', (tds) => tds.map((td) => td.textContent).reverse())
    t.same(values, ['before', 'during-1', 'during-2', 'during-3', 'after'], 'every event once, in order')
    const revisions = await page.$$eval('.events tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent)).reverse())
    t.same(revisions, revisions.map((_, i) => revisions[0]! + i), 'consecutive revisions')
    await page.goto(`${base}/ui/#/keys`)
  })

  t.test('cluster: status, members, health, alarms, charts, compaction and defragmentation', async (t) => {
    await page.goto(`${base}/ui/#/cluster`)
    await page.waitForFunction(() => document.querySelector('.cluster dd.ok')?.textContent === 'healthy')
    const status = await definitions(page, '.cluster .card dl.meta')
    t.match(status['etcd version'], /^3\.4\./)
    t.match(status['Raft term'], /^\d+$/)
    t.match(status['DB size'], /in use\) of 2\.0 GiB quota/)
    t.equal(await page.$$eval('.cluster tbody tr', (rows) => rows.length), 1, 'one member')
    t.match(await text(page, '.cluster tbody tr'), /leader/)
    t.equal(await text(page, '.cluster .card p.ok'), 'No alarm.')
    // three charts, drawn once two scrapes of /metrics are in
    await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === 3)
    await page.waitForFunction(() => !/–/.test(document.querySelector('.chart figcaption')?.textContent ?? '–'))

    const revision = Number(status.Revision)
    await page.type('#compact-rev', String(revision))
    await page.locator('.cluster button::-p-text(Compact)').click()
    await confirmDialog(page)
    await page.waitForFunction((r) => document.querySelector('.cluster .notice')?.textContent === `Compacted to revision ${r}.`, {}, revision)
    await page.locator('.cluster button::-p-text(Defragment)').click()
    await confirmDialog(page)
    await page.waitForFunction(() => document.querySelector('.cluster .notice')?.textContent === 'Defragmented.')
    t.pass('compacted and defragmented after confirmation')

    // after the compaction, a key's history starts at the compact revision
    await page.goto(`${base}/ui/#/keys`)
    await openKey(page, 'ui-test/race')
    await page.locator('.key-detail button::-p-text(History)').click()
    await page.waitForSelector('.history .hint')
    t.equal(await text(page, '.history .hint'), `Revisions before ${revision} were compacted.`)
    t.equal(await page.$$eval('.history tbody tr', (rows) => rows.length), 1, 'the current version, kept by the compaction')
    await page.goto(`${base}/ui/#/cluster`)
    await page.waitForFunction(() => document.querySelector('.cluster dd.ok')?.textContent === 'healthy')
    await assertLabelled(t, page)
    await screenshot(page, 'cluster')
  })

  t.test('the certificate table shows the certificate expiring in 20 days as a warning', async (t) => {
    await page.goto(`${base}/ui/#/certificates`)
    await page.waitForSelector('.certs table')
    const rows = await page.$$eval('.certs tr.cert', (trs) => trs.map((tr) => ({ level: tr.className, cells: Array.from(tr.cells, (c) => c.textContent) })))
    const served = rows.find((r) => r.cells[0]!.startsWith(server.cert.replace(/\.crt$/, '')))
    t.ok(served, 'the served certificate is listed')
    t.equal(served!.level, 'cert expiry-warning')
    t.match(served!.cells[2], /^(19|20)d$/, 'residual time as kubeadm prints it')
    t.equal(served!.cells[3], 'etcd-ca', 'its certificate authority')
    t.equal(served!.cells[4], 'expires within 30 days')
    const ca = rows.find((r) => r.cells.length === 4)
    t.equal(ca?.level, 'cert expiry-ok', 'the CA is listed apart, valid')
    // the rest of --pki-dir's certificates, which the gateway itself does not use
    const peer = rows.find((r) => r.cells[0]!.startsWith(filesOf(join(dir, 'pki'), 'etcd-peer').cert.replace(/\.crt$/, '')))
    t.equal(peer?.level, 'cert expiry-warning', "the PKI directory's peer certificate, expiring in 20 days")
    t.equal(peer?.cells[3], 'etcd-ca')
    await assertLabelled(t, page)
    await screenshot(page, 'certificates')
  })

  t.test('backups: the list, the last verified backup, and verification again', async (t) => {
    const backups = join(dir, 'backups')
    const taken = await etcdgw(['backup', 'now', '--gateway', base, '--dir', backups])
    t.equal(taken.code, 0, taken.stderr)
    // a second server that keeps its backups there (on a yearly schedule: the test takes them itself)
    const withBackups = await startServe(t, ['--data-dir', join(dir, 'data-2'), '--listen-client-urls', 'http://127.0.0.1:0', '--backup-schedule', '0 0 1 1 *', '--backup-dir', backups])
    const { page: p } = await openPage(browser)
    t.teardown(() => p.close())
    await p.goto(`${withBackups.url}/ui/#/backups`)
    await p.waitForSelector('.backups tr.backup')
    t.same(await p.$$eval('nav[aria-label="Views"] a', (as) => as.map((a) => a.textContent)), ['Keys', 'Watch', 'Cluster', 'Certificates', 'Backups'])
    const cells = await p.$$eval('.backups tr.backup td', (tds) => tds.map((td) => td.textContent))
    const name = /snapshot-\d{8}-\d{6}\.db(?=: revision)/.exec(taken.stdout)![0]
    t.equal(cells[0], name)
    t.equal(cells[5], 'verified')
    t.equal(cells[6], 'dir')
    await p.waitForFunction(() => /UTC$/.test(document.querySelector('.backups dl.meta dd')?.textContent ?? ''))
    t.match(await text(p, '.backups dl.meta dd.ok'), /^\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC$/, 'the last verified backup, from /metrics, not overdue')
    await p.locator(`.backups button[aria-label="Verify ${name} again"]`).click()
    await p.waitForFunction(() => document.querySelector('.backups .notice')?.textContent?.includes('verified in'))
    t.match(await text(p, '.backups .notice'), new RegExp(`^${name.replace(/\./g, '\\.')} verified in ${backups}: revision \\d+, \\d+ keys`))
    await assertLabelled(t, p)
    await screenshot(p, 'backups')
  })

  t.test('auth: log in, act with the user\'s permissions, see refusals clearly; the token stays in the tab\'s memory', async (t) => {
    const secured = await startServe(t, ['--data-dir', join(dir, 'data-auth'), '--listen-client-urls', 'http://127.0.0.1:0', '--bcrypt-cost', '4'])
    const url = secured.url
    await call(url, 'kv/put', { key: 'ui-auth/a', value: 'readable' })
    for (const [path, body] of [
      ['auth/user/add', { name: 'root', password: 'rootpw' }],
      ['auth/user/grant', { user: 'root', role: 'root' }],
      ['auth/role/add', { name: 'reader' }],
      ['auth/role/grant', { name: 'reader', perm: { permType: 'READ', key: 'ui-auth/', range_end: 'ui-auth0' } }],
      ['auth/user/add', { name: 'viewer', password: 'viewpw' }],
      ['auth/user/grant', { user: 'viewer', role: 'reader' }],
      ['auth/enable', {}],
    ] as const) await call(url, path, body)
    const { token: rootToken } = (await call(url, 'auth/authenticate', { name: 'root', password: 'rootpw' })) as { token: string }

    const { page: p } = await openPage(browser)
    t.teardown(() => p.close())
    await p.goto(`${url}/ui/#/keys`)
    await p.waitForSelector('.login #login-name')
    await p.locator('#login-name').fill('viewer')
    await p.locator('#login-password').fill('wrong')
    await p.locator('.login button[type="submit"]').click()
    await p.waitForSelector('.login .error')
    t.equal(await text(p, '.login .error'), 'etcdserver: authentication failed, invalid user ID or password')
    await p.locator('#login-password').fill('viewpw')
    await p.locator('.login button[type="submit"]').click()
    await p.waitForFunction(() => document.querySelector('.login') === null && document.querySelector('header .user')?.textContent?.startsWith('viewer'))

    await searchFlat(p, 'ui-auth/')
    await clickEntry(p, 'ui-auth/a')
    await p.waitForSelector('.key-detail .value-text')
    t.equal(await text(p, '.key-detail .value-text'), 'readable', "a key the user may read")
    await p.locator('#key-search').fill('elsewhere/')
    await p.keyboard.press('Enter')
    await p.waitForSelector('.key-list .error')
    t.equal(await text(p, '.key-list .error'), 'Permission denied: user viewer may not do this here (etcdserver: permission denied).')

    // the watch socket carries the token: a put by root shows
    await watchPrefix(p, url, 'ui-auth/')
    await call(url, 'kv/put', { key: 'ui-auth/b', value: 'watched' }, rootToken)
    await p.waitForFunction(() => document.querySelectorAll('.events tbody tr').length === 1)
    t.equal(await text(p, '.events tbody tr td.value-cell'), 'watched')

    t.same(await p.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]), [0, 0, ''], 'nothing stored')
    await p.reload()
    await p.waitForSelector('.login #login-name')
    t.pass('a reload asks again')
    await assertLabelled(t, p)
    await screenshot(p, 'login')
  })

  t.test(`${MILLION.toLocaleString('en')} keys under one prefix: every page shows its keys, read a window at a time at one revision, each page once; memory flat`, async (t) => {
    await loadKeys(base, MILLION)
    await page.goto(`${base}/ui/#/keys`)
    await page.waitForSelector('#key-search')
    await chooseFlat(page)
    const reads = recordRanges(page, 'm/', 'm0')
    let started = Date.now()
    await search(page, 'm/')
    await firstEntryShown(page, key(0))
    const first = Date.now() - started
    t.match(await text(page, '.key-list .summary'), new RegExp(`^Keys 1–100 of ${MILLION.toLocaleString('en')} at revision \\d+$`))

    const heap: number[] = []
    const pageTimes: number[] = []
    const wrongPages: { page: number; keys: string[] }[] = []
    for (let p = 1; p <= 40; p++) {
      started = Date.now()
      await nextPage(page)
      await firstEntryShown(page, key(p * 100))
      pageTimes.push(Date.now() - started)
      const shown = await shownEntries(page)
      if (shown.join() !== Array.from({ length: 100 }, (_, i) => key(p * 100 + i)).join()) wrongPages.push({ page: p + 1, keys: shown })
      if (p === 10 || p === 40) heap.push(await usedHeap(page))
    }
    t.same(wrongPages, [], 'every page shows the next 100 keys in order')
    const sorted = [...pageTimes].sort((a, b) => a - b)
    t.comment(`first page in ${first} ms; next pages: median ${sorted[20]} ms, slowest ${sorted[39]} ms`)

    // What a page costs the server, which its time depends on: the first page is one range counting the whole
    // prefix; a later one reads the window its keys likely share, then wider ones until it is full (see
    // ui/src/key-pages.ts), so that against etcd, which counts a range key by key, a page costs a window and
    // not the rest of the million. Here a page takes at most 3 reads; the widest window, [m/0001, m/001), has 9,000 keys.
    const [firstRead, ...later] = await reads.done()
    t.same(firstRead?.request, { key: 'm/', range_end: 'm0', limit: 100, revision: 0, keys_only: true }, 'the first page: one range over the prefix at the newest revision, keys only')
    t.equal(firstRead?.answer.count, String(MILLION), 'its count is every key under the prefix')
    const revision = Number(firstRead?.answer.header.revision)
    t.ok(later.length >= 40 && later.length <= 3 * 41, `${later.length} ranges for the 40 pages after it and the one read ahead`)
    t.same(later.filter((r) => r.request.revision !== revision || r.request.keys_only !== true || !(r.request.limit! <= 101)).map((r) => r.request), [], "every later range: keys only, at most a page and one key, at the first page's revision")
    t.same(later.filter((r) => !(Number(r.answer.count ?? 0) < 10_000)).map((r) => [r.request, r.answer.count]), [], 'every later range counts fewer than 10,000 keys')
    t.equal(new Set(later.map((r) => JSON.stringify(r.request))).size, later.length, 'no range read twice: Next shows the page read ahead')
    t.ok(heap[1]! - heap[0]! < 1024 * 1024, `heap after 10 pages ${heap[0]} B, after 40 pages ${heap[1]} B`)
    t.equal(await text(page, '.key-list .summary'), `Keys 4,001–4,100 of ${MILLION.toLocaleString('en')} at revision ${revision}`)
    await screenshot(page, 'keys-million')
    t.same(problems.list, [], 'no error in the page over every case')
  })
}

const key = (i: number) => `m/${String(i).padStart(7, '0')}`

/** Keys m/0000000 … in txns of 128 puts, 4 at a time. */
async function loadKeys(base: string, total: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < total) {
      const from = next
      next += 128
      const success = []
      for (let i = from; i < Math.min(from + 128, total); i++) success.push({ request_put: { key: key(i), value: 'v' } })
      const res = await fetch(`${base}/v3/kv/txn?encoding=utf8`, { method: 'POST', body: JSON.stringify({ success }) })
      if (!res.ok) throw new Error(`txn: ${res.status} ${await res.text()}`)
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
}

async function call(base: string, path: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(`${base}/v3/${path}?encoding=utf8`, { method: 'POST', body: JSON.stringify(body), headers: token ? { authorization: token } : {} })
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

async function putText(base: string, k: string, value: string): Promise<void> {
  await call(base, 'kv/put', { key: k, value })
}

async function putBytes(base: string, k: string, value: Buffer): Promise<void> {
  const res = await fetch(`${base}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(k).toString('base64'), value: value.toString('base64') }) })
  if (!res.ok) throw new Error(`put ${k}: ${res.status} ${await res.text()}`)
}

async function readText(base: string, k: string): Promise<string | undefined> {
  const res = await fetch(`${base}/v3/kv/range?encoding=utf8`, { method: 'POST', body: JSON.stringify({ key: k }) })
  const body = (await res.json()) as { kvs?: { value?: string }[] }
  return body.kvs?.[0]?.value
}

/**
 * A Pod as the API server stores it: the magic `k8s\0`, then runtime.Unknown { typeMeta (1) { apiVersion (1),
 * kind (2) }, raw (2) }, raw being the Pod { metadata (1) ObjectMeta { name (1), namespace (3), uid (5),
 * generation (7, a varint) }, spec (2) { containers (2) { name (1), image (2) } } }.
 */
function podEnvelope(): Buffer {
  const varint = (n: number) => {
    const out: number[] = []
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80)
    out.push(n)
    return Buffer.from(out)
  }
  const field = (n: number, v: Buffer | string) => {
    const b = Buffer.from(v)
    return Buffer.concat([varint(n * 8 + 2), varint(b.length), b])
  }
  const meta = Buffer.concat([field(1, 'web-0'), field(3, 'default'), field(5, '6f1c0f43-59f2-4c2a-9d55-1b1f1c1e4d20'), varint(7 * 8), varint(300)])
  const spec = field(2, Buffer.concat([field(1, 'web'), field(2, 'nginx:1.27')]))
  const pod = Buffer.concat([field(1, meta), field(2, spec)])
  const unknown = Buffer.concat([field(1, Buffer.concat([field(1, 'v1'), field(2, 'Pod')])), field(2, pod)])
  return Buffer.concat([Buffer.from('k8s\0'), unknown])
}

/**
 * A TCP proxy to the gateway whose connections the test can cut: cut(true) drops every connection and
 * refuses new ones (a network outage), cut(false) lets them through again.
 */
async function startCuttableProxy(targetPort: string): Promise<{ port: number; cut(down: boolean): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let down = false
  const server = createServer((client) => {
    if (down) return void client.destroy()
    const upstream = connect(Number(targetPort), '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cut(d: boolean) {
      down = d
      if (d) for (const s of sockets) s.destroy()
    },
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

interface RangeRead {
  request: { key?: unknown; range_end?: unknown; limit?: number; revision?: number; keys_only?: boolean }
  answer: { header: { revision: string }; count?: string }
}

/**
 * The ranges the page reads inside [start, end) from now on (text-mode keys), in the order it sends them,
 * each with its answer; done() waits for the answers of those sent so far.
 */
function recordRanges(page: Page, start: string, end: string): { done(): Promise<RangeRead[]> } {
  const reads: Promise<RangeRead>[] = []
  const onRequest = (req: HTTPRequest) => {
    if (!req.url().includes('/v3/kv/range')) return
    const request = JSON.parse(req.postData() ?? '{}') as RangeRead['request']
    const { key: from, range_end: to } = request
    if (typeof from !== 'string' || typeof to !== 'string' || from < start || from >= end || to <= start || to > end) return
    const read = page.waitForResponse((res) => res.request() === req).then(async (res) => ({ request, answer: (await res.json()) as RangeRead['answer'] }))
    read.catch(() => undefined) // awaited in done()
    reads.push(read)
  }
  page.on('request', onRequest)
  return {
    done() {
      page.off('request', onRequest)
      return Promise.all(reads)
    },
  }
}

async function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '')
}

/** The dt → dd pairs of a definition list. */
async function definitions(page: Page, selector: string): Promise<Record<string, string>> {
  return page.$eval(selector, (dl) => {
    const out: Record<string, string> = {}
    for (const dt of Array.from(dl.querySelectorAll('dt'))) out[dt.textContent!] = dt.nextElementSibling?.textContent ?? ''
    return out
  })
}

async function searchFlat(page: Page, prefix: string): Promise<void> {
  await chooseFlat(page)
  await search(page, prefix)
  await page.waitForFunction((p) => {
    const first = document.querySelector('ul.entries li:first-child button')?.textContent ?? ''
    return first.startsWith(p) && !/Loading/.test(document.querySelector('.key-list .summary')?.textContent ?? '')
  }, {}, prefix)
}

async function openKey(page: Page, k: string): Promise<void> {
  await searchFlat(page, k)
  await clickEntry(page, k)
  await page.waitForFunction((name) => document.querySelector('.key-detail .key-name')?.textContent === name, {}, k)
}

async function clickEntry(page: Page, label: string): Promise<void> {
  const handle = await page.waitForFunction(
    (l) => Array.from(document.querySelectorAll<HTMLButtonElement>('ul.entries button')).find((b) => b.textContent === l),
    {},
    label,
  )
  await (handle as unknown as { click(): Promise<void> }).click()
}

async function confirmDialog(page: Page): Promise<void> {
  await page.waitForSelector('dialog.confirm[open] button[value="confirm"]')
  await page.click('dialog.confirm[open] button[value="confirm"]')
  await page.waitForFunction(() => !document.querySelector('dialog.confirm[open]'))
}

async function usedHeap(page: Page): Promise<number> {
  await page.evaluate(() => (globalThis as unknown as { gc(): void }).gc())
  const metrics = await page.metrics()
  return metrics.JSHeapUsedSize ?? 0
}

/** Every control in the accessibility tree of what is shown has a name a screen reader can say. */
async function assertLabelled(t: Test, page: Page): Promise<void> {
  const snapshot = await page.accessibility.snapshot({ interestingOnly: false })
  const controls = new Set(['button', 'link', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'spinbutton', 'slider', 'listbox'])
  const unnamed: string[] = []
  const walk = (node: { role?: string; name?: string; children?: unknown[] } | null) => {
    if (!node) return
    if (node.role && controls.has(node.role) && !node.name?.trim()) unnamed.push(node.role)
    for (const child of node.children ?? []) walk(child as typeof node)
  }
  walk(snapshot)
  t.same(unnamed, [], `every control on ${await page.evaluate(() => location.hash || '#/keys')} has a label`)
}
