/**
 * Password hashes as etcd keeps them: bcrypt, at etcd's cost (--bcrypt-cost, default 10). bcryptjs works
 * in slices between turns of the event loop, so a hash does not stall other requests.
 */
import bcrypt from 'bcryptjs'

/** etcd's default --bcrypt-cost, and the range it accepts. */
export const DEFAULT_BCRYPT_COST = 10
export const MIN_BCRYPT_COST = 4
export const MAX_BCRYPT_COST = 31
/** A bcrypt hash string ends in its 31-character digest, after the salt and cost. */
const BCRYPT_DIGEST_CHARS = 31

export class Passwords {
  /**
   * Compared against when the user does not exist, so a failed authentication takes as long either way:
   * a hash-shaped string with a fresh salt at this cost. Checking a password against it costs a full hash
   * at that cost, as against any user's hash, and making it costs nothing (a store opens without hashing).
   */
  private readonly decoy: string

  /** `cost`: from MIN_BCRYPT_COST to MAX_BCRYPT_COST (the configuration checks it). */
  constructor(readonly cost: number) {
    this.decoy = bcrypt.genSaltSync(cost) + '.'.repeat(BCRYPT_DIGEST_CHARS)
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost)
  }

  /** Whether the password matches the hash; with no hash (no such user) false, after as much work. */
  async matches(password: string, hash: string | undefined): Promise<boolean> {
    if (hash === undefined) {
      await bcrypt.compare(password, this.decoy)
      return false
    }
    return bcrypt.compare(password, hash)
  }
}
