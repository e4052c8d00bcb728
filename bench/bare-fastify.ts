import Fastify from 'fastify'

/**
 * The ceiling: Fastify 5 parsing each JSON body and answering with a fixed etcd-shaped range response
 * (the exact bytes real etcd 3.4 returns for the bench's range of `foo`). Nothing between parse and reply.
 */
const RANGE_RESPONSE = JSON.stringify({
  header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '2', raft_term: '2' },
  kvs: [{ key: 'Zm9v', create_revision: '2', mod_revision: '2', version: '1', value: 'YmFy' }],
  count: '1',
})

const port = Number(process.argv[2])
const app = Fastify({ logger: false })
app.post('/*', (req, reply) => {
  if (typeof req.body !== 'object' || req.body === null) return reply.code(400).send()
  return reply.type('application/json').send(RANGE_RESPONSE)
})
await app.listen({ host: '127.0.0.1', port })
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void app.close())
