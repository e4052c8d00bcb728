import { X509Certificate } from 'node:crypto'
import { createPrivateKey } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { advanceRotation, readCertBundle, readKeyPair, writeCertFile, writeKeyPair, rotationStatus, splitPemCerts, verifyPki, DEFAULT_CA_VALIDITY_MS, DEFAULT_CERT_VALIDITY_MS } from '../../pki/index.js'
import { freshPki, NOW } from './fixture.js'

const options = (dir: string) => ({ dir, now: NOW, caValidityMs: DEFAULT_CA_VALIDITY_MS, certValidityMs: DEFAULT_CERT_VALIDITY_MS })
const bundle = async (dir: string) => splitPemCerts(await readFile(join(dir, 'etcd/ca.crt'), 'utf8')).map((pem) => new X509Certificate(pem))

t.test('rotate-ca: trust both, re-issue, finalize; status at every stage', async (t) => {
  const dir = await freshPki(t)
  const [oldCa] = await bundle(dir)
  t.equal((await rotationStatus(dir)).stage, 'idle')

  t.same((await advanceRotation(options(dir))).to, 'trust-both')
  const both = await bundle(dir)
  t.equal(both.length, 2, 'ca.crt holds two CAs')
  t.equal(both[1]!.serialNumber, oldCa!.serialNumber, 'old CA second')
  t.not(both[0]!.serialNumber, oldCa!.serialNumber, 'new CA first (the signer)')
  t.equal(both[0]!.subject, 'CN=etcd-ca')
  t.ok(both[0]!.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'etcd/ca.key')))), 'ca.key is the new key')
  const status1 = await rotationStatus(dir)
  t.equal(status1.stage, 'trust-both')
  t.same(status1.leaves.map((l) => l.signer), ['previous', 'previous', 'previous', 'previous'])
  t.same(await verifyPki({ dir, now: NOW }), [], 'old leaves still verify against the bundle')

  t.same((await advanceRotation(options(dir))).to, 'reissued')
  const status2 = await rotationStatus(dir)
  t.equal(status2.stage, 'reissued')
  t.same(status2.leaves.map((l) => l.signer), ['current', 'current', 'current', 'current'])
  const server = new X509Certificate(await readFile(join(dir, 'etcd/server.crt')))
  t.ok(server.checkIssued(both[0]!) && server.verify(both[0]!.publicKey), 'leaves signed by the new CA')

  t.same((await advanceRotation(options(dir))).to, 'idle')
  const final = await bundle(dir)
  t.equal(final.length, 1)
  t.equal(final[0]!.serialNumber, both[0]!.serialNumber, 'only the new CA is trusted')
  t.same(await verifyPki({ dir, now: NOW }), [], 'all verify against the new CA alone')
  t.same((await readdir(join(dir, 'etcd'))).filter((f) => f.startsWith('ca')).sort(), ['ca.crt', 'ca.key'], 'no staging files left')
})

t.test('an interrupted stage 1 resumes without losing the new key', async (t) => {
  const dir = await freshPki(t)
  const [oldCa] = await readCertBundle(join(dir, 'etcd/ca.crt'))
  const [oldSerial] = (await bundle(dir)).map((c) => c.serialNumber)
  await advanceRotation(options(dir))
  const [newCa] = await bundle(dir)
  // simulate a crash after staging: put back the pre-commit state with the staged files present
  const next = await readKeyPair({ cert: join(dir, 'etcd/ca.crt'), key: join(dir, 'etcd/ca.key') })
  await writeKeyPair({ cert: join(dir, 'etcd/ca-next.crt'), key: join(dir, 'etcd/ca-next.key') }, next)
  await writeCertFile(join(dir, 'etcd/ca.crt'), [oldCa!])
  t.equal((await rotationStatus(dir)).stage, 'staged')
  t.same((await advanceRotation(options(dir))).from, 'staged')
  t.same((await bundle(dir)).map((c) => c.serialNumber), [newCa!.serialNumber, oldSerial!], 'new CA first, old second')
  t.equal((await rotationStatus(dir)).stage, 'trust-both')

  // a crash after the key rename but before the staging certificate was removed
  await writeCertFile(join(dir, 'etcd/ca-next.crt'), [next.cert])
  t.equal((await rotationStatus(dir)).stage, 'staged')
  await advanceRotation(options(dir))
  t.same((await bundle(dir)).map((c) => c.serialNumber), [newCa!.serialNumber, oldSerial!], 'committing twice changes nothing')
  t.same((await readdir(join(dir, 'etcd'))).filter((f) => f.startsWith('ca')).sort(), ['ca.crt', 'ca.key'])
})
