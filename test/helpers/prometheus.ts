/** Debian's Prometheus server and promtool, for the monitoring tests. */
import { accessSync, constants } from 'node:fs'

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus'
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool'

/** False when both are installed, else the skip reason; with CI=true a missing one is an error, never a skip. */
export function prometheusMissing(): string | false {
  try {
    for (const bin of [PROMETHEUS_BIN, PROMTOOL_BIN]) accessSync(bin, constants.X_OK)
    return false
  } catch (err) {
    const reason = `${(err as NodeJS.ErrnoException).path} not found (apt-get install -y prometheus)`
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`)
    return reason
  }
}
