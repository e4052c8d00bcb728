/** What the auth store needs of a token kind (simple or JWT). */
export interface TokenProvider {
  /** A token for the user, given at auth revision `revision` and raft index `index`. */
  assign(user: string, revision: number, index: number): Promise<string>
  /**
   * The token's user and the auth revision it stands for (undefined: `current`), or undefined when it is
   * not valid. `use`: the token is being used (a simple token's TTL starts again); false only looks.
   */
  info(token: string, use?: boolean): { user: string; revision?: number } | undefined
  /** When the token ends if not used again (ms since the epoch), without using it; undefined when it is not valid. */
  expiresAt(token: string): number | undefined
  /** The user's password changed or the user is gone. */
  invalidateUser(user: string): void
  /** Auth was disabled. */
  clear(): void
}
