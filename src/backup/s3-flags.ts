/**
 * The S3 destination's flags, once for both commands that take them: `etcdgw backup now|run|list|verify|
 * restore` as `--s3-bucket …`, and `etcdgw serve` as `--backup-s3-bucket …` (beside its other --backup-
 * flags, with ETCDGW_BACKUP_S3_* variables). Credentials are never flags: the AWS SDK's chain finds them.
 */
import { InvalidArgumentError, Option } from 'commander'
import { MIN_PART_SIZE, type S3Options } from './s3-options.js'

export type S3FlagPrefix = '' | 'backup-'

/** The values of the flags, whatever their prefix: the bucket's options, the bucket itself optional. */
export type S3FlagValues = Omit<S3Options, 'bucket'> & { bucket?: string }

const UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }
const SUFFIXES = ['bucket', 'prefix', 'region', 'endpoint', 'force-path-style', 'ca-file', 'sse', 'sse-kms-key-id', 'part-size'] as const
type Suffix = (typeof SUFFIXES)[number]

const flagName = (prefix: S3FlagPrefix, suffix: Suffix) => `--${prefix}s3-${suffix}`
const camel = (name: string) => name.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase())

const partSizeArg = (flag: string) => (v: string) => {
  const m = /^(\d+)(KiB|MiB|GiB)?$/.exec(v)
  const bytes = m ? Number(m[1]) * UNITS[m[2] ?? '']! : NaN
  if (!(bytes >= MIN_PART_SIZE)) throw new InvalidArgumentError(`${flag}: a size of 5MiB or more (S3's smallest part), in bytes or with KiB, MiB or GiB`)
  return bytes
}

/** The flags; `env` names the environment variable each reads, if any. */
export function s3FlagOptions(prefix: S3FlagPrefix, env?: (flag: string) => string): Option[] {
  const option = (suffix: Suffix, value: string, description: string) => {
    const name = flagName(prefix, suffix)
    const o = new Option(`${name}${value}`, description)
    return env ? o.env(env(name)) : o
  }
  return [
    option('bucket', ' <bucket>', 'keep backups in this S3 bucket too (credentials from the AWS environment and profile chain)'),
    option('prefix', ' <prefix>', 'keys start with this prefix (a "/" is added)').default(''),
    option('region', ' <region>', "the bucket's region (default: AWS_REGION, or the profile's)"),
    option('endpoint', ' <url>', 'a store other than AWS that speaks S3 (MinIO, Ceph, …)'),
    option('force-path-style', '', 'address the bucket in the path (https://host/bucket/key), as most self-hosted stores want'),
    option('ca-file', ' <file>', "verify the store's certificate with this CA bundle"),
    option('sse', ' <algorithm>', 'server-side encryption of every object').choices(['AES256', 'aws:kms']),
    option('sse-kms-key-id', ' <id>', "the KMS key for aws:kms encryption (default: the bucket's)"),
    option('part-size', ' <size>', 'bytes per part of a multipart upload; a snapshot no larger goes up in one PUT')
      .argParser(partSizeArg(flagName(prefix, 'part-size')))
      .default(16 * 1024 ** 2, '16MiB'),
  ]
}

/** The flags' values out of commander's parsed options. */
export function s3FlagValues(flags: object, prefix: S3FlagPrefix): S3FlagValues {
  const all = flags as Record<string, unknown>
  const get = (suffix: Suffix) => all[camel(flagName(prefix, suffix))]
  const values: Record<string, unknown> = {}
  for (const suffix of SUFFIXES) if (get(suffix) !== undefined) values[camel(suffix)] = get(suffix)
  return { prefix: '', partSize: 16 * 1024 ** 2, ...values } as S3FlagValues
}

/** The bucket's options, or undefined without a bucket. Throws InvalidArgumentError naming the flag. */
export function s3OptionsOf(values: S3FlagValues, prefix: S3FlagPrefix): S3Options | undefined {
  if (values.sseKmsKeyId !== undefined && values.sse !== 'aws:kms') {
    throw new InvalidArgumentError(`${flagName(prefix, 'sse-kms-key-id')} needs ${flagName(prefix, 'sse')} aws:kms`)
  }
  if (values.bucket === undefined) return undefined
  return {
    bucket: values.bucket,
    prefix: values.prefix === '' || values.prefix.endsWith('/') ? values.prefix : `${values.prefix}/`,
    partSize: values.partSize,
    forcePathStyle: values.forcePathStyle === true,
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}),
    ...(values.caFile !== undefined ? { caFile: values.caFile } : {}),
    ...(values.sse !== undefined ? { sse: values.sse } : {}),
    ...(values.sseKmsKeyId !== undefined ? { sseKmsKeyId: values.sseKmsKeyId } : {}),
  }
}

/** Opens the bucket (loading the AWS SDK only now); a CA file that cannot be read is named. */
export async function openS3Store(options: S3Options, prefix: S3FlagPrefix) {
  const { S3Store } = await import('./s3-store.js')
  try {
    return new S3Store(options)
  } catch (err) {
    throw new InvalidArgumentError(`${flagName(prefix, 'ca-file')} ${options.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}
