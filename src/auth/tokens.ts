/** What the auth store needs of a token kind (simple or JWT). */
export interface TokenProvider {
  /** A token for the user, given at auth revision `revision` and raft index `index`. */
  assign(user: string, revision: number, index: number): Promise<string>
  /** The token's user and the auth revision it stands for (undefined: `current`), or undefined when it is not valid. */
  info(token: string): { user: string; revision?: number } | undefined
  /** The user's password changed or the user is gone. */
  invalidateUser(user: string): void
  /** Auth was disabled. */
  clear(): void
}
