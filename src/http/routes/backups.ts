/**
 * GET /backups and POST /backups/verify: the backups `etcdgw serve --backup-schedule` keeps, as `etcdgw
 * backup list -w json` and `backup verify` show them (src/backup/catalog.ts); the console's Backups view
 * reads them. Verification runs off the event loop: the gateway keeps serving meanwhile.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { BackupStore } from '../../backup/backup-store.js'
import { findLocated, listed, locate, verifyCopies } from '../../backup/catalog.js'
import { Errors } from '../../errors.js'

export interface BackupRoutesOptions {
  stores: BackupStore[]
}

export const backupRoutes: FastifyPluginAsync<BackupRoutesOptions> = async (app, { stores }) => {
  app.get('/backups', async () => ({ backups: (await locate(stores)).map(listed) }))
  app.post('/backups/verify', async (request) => {
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
