/**
 * Which module registers each top-level command. `etcdgw get foo` loads only the key-value commands,
 * not the server, the store and the PKI: a CLI call starts in a fraction of the time. Help, no
 * command and unknown commands load them all, so commander lists and suggests every command.
 */
import type { Command } from 'commander'

type Register = (program: Command) => void

/** In the order `etcdgw --help` lists them. */
export const COMMAND_MODULES: ReadonlyArray<readonly [names: readonly string[], load: () => Promise<Register>]> = [
  [['serve'], async () => (await import('./serve.js')).registerServeCommand],
  [['certs'], async () => (await import('./certs.js')).registerCertsCommands],
  [['snapshot'], async () => (await import('./snapshot.js')).registerSnapshotCommands],
  [['backup'], async () => (await import('./backup.js')).registerBackupCommands],
  [['endpoint', 'member'], async () => (await import('./cluster-status.js')).registerClusterStatusCommands],
  [['get', 'put', 'del', 'watch'], async () => (await import('./kv-commands.js')).registerKvCommands],
  [['version'], async () => (await import('./version.js')).registerVersionCommand],
]

/** Registers the command named first on the command line, or every command when that is not one of them. */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const named = COMMAND_MODULES.find(([names]) => names.includes(argv[0] ?? ''))
  for (const [, load] of named ? [named] : COMMAND_MODULES) (await load())(program)
}
