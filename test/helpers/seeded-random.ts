/** A small seeded generator (mulberry32): a failing random test is replayed with the seed it prints. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed from `envName`, else one taken from the clock. */
export function testSeed(envName: string): number {
  return Number(process.env[envName] ?? Date.now() % 100000)
}
