/** A lease's remaining time, counted down each second and read again from the server every 10 s. */
import { useEffect, useState } from 'preact/hooks'
import { api, errorText } from './api.js'

export function LeaseCountdown({ id }: { id: string }) {
  const [expiresAt, setExpiresAt] = useState<number | null | undefined>(undefined)
  const [granted, setGranted] = useState<string>('')
  const [error, setError] = useState('')
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    let stopped = false
    const read = async () => {
      try {
        const res = await api.leaseTimeToLive(id)
        if (stopped) return
        const ttl = Number(res.TTL ?? 0)
        // the time left counts from the answer: `now` may be up to a tick older
        const answered = Date.now()
        setNow(answered)
        // etcd answers TTL -1 for a lease that no longer exists
        setExpiresAt(ttl < 0 ? null : answered + ttl * 1000)
        setGranted(res.grantedTTL ?? '')
        setError('')
      } catch (err) {
        if (!stopped) setError(errorText(err))
      }
    }
    void read()
    const tick = setInterval(() => setNow(Date.now()), 1000)
    const refresh = setInterval(read, 10_000)
    return () => {
      stopped = true
      clearInterval(tick)
      clearInterval(refresh)
    }
  }, [id])
  const hex = BigInt(id).toString(16)
  if (error) return <span>{`${id} (${hex}): ${error}`}</span>
  if (expiresAt === undefined) return <span>{`${id} (${hex})`}</span>
  if (expiresAt === null) return <span>{`${id} (${hex}): expired`}</span>
  const left = Math.max(0, Math.round((expiresAt - now) / 1000))
  return (
    <span>
      {`${id} (${hex}): `}
      <span class="ttl" aria-label={`expires in ${left} seconds`}>
        {left} s left
      </span>
      {granted && ` of ${granted} s`}
    </span>
  )
}
