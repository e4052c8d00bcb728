import { type ChildProcess, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { MAIN, startServe } from '../helpers/serve-process.js'
import { tempDir } from '../helpers/temp-dir.js'

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

const post = async (url: string, body: string) => {
  const res = await fetch(url, { method: 'POST', body })
  return { status: res.status, body: await res.text() }
}

t.test('serves over real HTTP, stops on SIGTERM with exit 0, data survives a restart', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const first = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', dataDir])
  t.match(first.output(), `data dir ${dataDir}`)
  t.match(first.output(), `try: curl -s -X POST ${first.url}/v3/kv/put -d '{"key":"Zm9v","value":"YmFy"}'`)
  const put = await post(`${first.url}/v3/kv/put`, '{"key":"Zm9v","value":"YmFy"}')
  t.equal(put.status, 200)
  t.match(put.body, /"revision":"2"/)
  t.match((await post(`${first.url}/v3/kv/range`, '{"key":"Zm9v"}')).body, /"value":"YmFy"/)
  first.child.kill('SIGTERM')
  t.equal(await exited(first.child), 0)

  const second = await startServe(t, ['--data-dir', dataDir], { ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:0' })
  const range = await post(`${second.url}/v3/kv/range`, '{"key":"Zm9v"}')
  t.match(range.body, /"kvs":\[\{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"\}\],"count":"1"\}$/)
  second.child.kill('SIGINT')
  t.equal(await exited(second.child), 0)
})

t.test('flags come from ETCD_* environment variables; flags win', async (t) => {
  const dir = tempDir(t)
  const server = await startServe(t, ['--data-dir', join(dir, 'flag')], {
    ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:0',
    ETCD_DATA_DIR: join(dir, 'env'),
    ETCD_MAX_REQUEST_BYTES: '1024',
    ETCD_MAX_TXN_OPS: '2',
  })
  t.match(server.output(), `data dir ${join(dir, 'flag')}`)
  const big = await post(`${server.url}/v3/kv/put`, `{"key":"YQ==","value":"${Buffer.alloc(2000).toString('base64')}"}`)
  t.equal(big.body, '{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}')
  const ops = await post(`${server.url}/v3/kv/txn`, '{"success":[{"request_range":{"key":"YQ=="}},{"request_range":{"key":"YQ=="}},{"request_range":{"key":"YQ=="}}]}')
  t.equal(ops.body, '{"error":"etcdserver: too many operations in txn request","message":"etcdserver: too many operations in txn request","code":3}')
  server.child.kill('SIGTERM')
  t.equal(await exited(server.child), 0)
})

t.test('bad flags: a clear message and exit status 2', async (t) => {
  const dir = tempDir(t)
  const cases: [string[], RegExp][] = [
    [['--listen-client-urls', 'foo'], /--listen-client-urls: "foo" is not a URL/],
    [['--listen-client-urls', 'unix://127.0.0.1:2379'], /only http:\/\/ and https:\/\/ URLs are supported/],
    [['--max-request-bytes', 'lots'], /--max-request-bytes: "lots" is not a positive integer/],
    [['--max-txn-ops', '0'], /--max-txn-ops: "0" is not a positive integer/],
    [['--log-level', 'loud'], /Allowed choices are debug, info, warn, error/],
    [['--no-such-flag'], /unknown option '--no-such-flag'/],
    [['--pki-dir', '/nonexistent/pki'], /--pki-dir: \/nonexistent\/pki is not a directory/],
    [['--cors', 'app.example:8080'], /--cors: "app.example:8080" is not an origin: give scheme:\/\/host\[:port\]/],
  ]
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [MAIN, 'serve', '--data-dir', join(dir, 'd'), ...args], { encoding: 'utf8', timeout: 20_000 })
    t.equal(r.status, 2, args.join(' '))
    t.match(r.stderr, message)
  }
})

t.test('the web console: on by default, off with --ui=false or ETCDGW_UI=false (with etcd cross-origin behaviour back)', async (t) => {
  const dir = tempDir(t)
  const listen = ['--listen-client-urls', 'http://127.0.0.1:0']
  const foreignPut = (url: string) =>
    fetch(`${url}/v3/kv/put`, { method: 'POST', headers: { origin: 'https://elsewhere.example' }, body: '{"key":"Zm9v","value":"YmFy"}' })
  const on = await startServe(t, [...listen, '--data-dir', join(dir, 'on')])
  t.equal((await fetch(`${on.url}/ui/`)).status, 200)
  t.equal((await foreignPut(on.url)).status, 403)
  on.child.kill('SIGTERM')
  await exited(on.child)
  const off = await startServe(t, [...listen, '--data-dir', join(dir, 'off'), '--ui=false'])
  t.equal((await fetch(`${off.url}/ui/`)).status, 404)
  t.equal((await foreignPut(off.url)).status, 200)
  off.child.kill('SIGTERM')
  await exited(off.child)
  const env = await startServe(t, [...listen, '--data-dir', join(dir, 'env')], { ETCDGW_UI: 'false' })
  t.equal((await fetch(`${env.url}/ui/`)).status, 404)
  env.child.kill('SIGTERM')
  await exited(env.child)
  // an origin --cors names may call the API from its pages while the console is on
  const listed = await startServe(t, [...listen, '--data-dir', join(dir, 'cors'), '--cors', 'https://elsewhere.example:443'])
  const put = await foreignPut(listed.url)
  t.equal(put.status, 200)
  t.equal(put.headers.get('access-control-allow-origin'), 'https://elsewhere.example')
})
