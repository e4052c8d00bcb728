/**
 * Polls `probe` every `everyMs` until it returns true, for at most `timeoutMs`: for an effect a test cannot be
 * told of directly. Resolves with whether it held, so the test's own assertion says what was missing.
 */
export async function eventually(probe: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await probe()) return true
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
