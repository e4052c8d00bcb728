/** What names a bucket for backups: kept apart from s3-store.ts so the CLI loads the AWS SDK only when a bucket is given. */

/** S3's smallest part (every part but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024

export interface S3Options {
  bucket: string
  /** Keys start with it; '' or ending with '/'. */
  prefix: string
  region?: string
  /** A store other than AWS (MinIO, Ceph, …): its URL. */
  endpoint?: string
  /** bucket in the path (https://host/bucket/key) instead of the host name. */
  forcePathStyle?: boolean
  /** CA bundle to verify a self-hosted store's certificate with. */
  caFile?: string
  /** Server-side encryption of every object: AES256 (SSE-S3) or aws:kms (with sseKmsKeyId, or the bucket's key). */
  sse?: 'AES256' | 'aws:kms'
  sseKmsKeyId?: string
  /** Bytes per part of a multipart upload (MIN_PART_SIZE or more); a snapshot no larger goes up in one PUT. */
  partSize: number
}
