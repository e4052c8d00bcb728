/** Every PKI failure names the file it concerns and why, so an operator can act on it directly. */
export class PkiError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`)
    this.name = 'PkiError'
  }
}
