/**
 * GET /backups and POST /backups/verify: the backups `etcdgw serve --backup-schedule` keeps, as `etcdgw
 * backup list -w json` and `backup verify` show them (src/backup/catalog.ts); the console's Backups view
 * reads them. Verification runs off the event loop: the gateway keeps serving meanwhile.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import type { BackupStore } from '../../backup/backup-store.js'
import { findLocated, listed, locate, verifyCopies } from '../../backup/catalog.js'
import { Errors } from '../../errors.js'
import type { CredentialsReader } from '../credentials.js'

export interface BackupRoutesOptions {
  stores: BackupStore[]
  backend: Backend
  credentials: CredentialsReader
}

export const backupRoutes: FastifyPluginAsync<BackupRoutesOptions> = async (app, { stores, backend, credentials }) => {
  /**
   * A backup is a snapshot: while auth is on, its list and its verification are root's, as
   * /v3/maintenance/snapshot is. The Auth service's user list is root-only in etcd, and the cheapest call
   * that says so (etcd's own answer in remote mode).
   */
  const root = (request: FastifyRequest) => backend.as(credentials(request.raw)).auth.userList()
  app.get('/backups', async (request) => {
    await root(request)
    return { backups: (await locate(stores)).map(listed) }
  })
  app.post('/backups/verify', async (request) => {
    await root(request)
    const copies = await verifyCopies(await findLocated(stores, backupNameIn(request.body)))
    return { copies }
  })
}

function backupNameIn(body: unknown): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '')
  } catch {
    throw Errors.backupVerifyRequest()
  }
  const name = (parsed as { name?: unknown } | null)?.name
  if (typeof name !== 'string' || name === '') throw Errors.backupVerifyRequest()
  return name
}
