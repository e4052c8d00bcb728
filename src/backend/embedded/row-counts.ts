/**
 * How many rows the revisions table holds after each of the latest revisions, so that a count at a past
 * revision knows what reading back the rows written since would cost before it reads any.
 */
const WINDOW = 1 << 16

/**
 * Reading a row back costs about as much as visiting 20 keys of the key index (measured at 1,000,000 keys):
 * a count or a watch's catch-up visits keys when there are more than this many per row it would read instead.
 */
export const KEYS_PER_ROW_READ = 32

export class RowCounts {
  /** Rows up to and including revision r, at r % WINDOW, for the last WINDOW revisions. */
  private readonly upTo = new Float64Array(WINDOW)
  private latest = 0
  private total = 0

  /** Adds `rows` rows of revision `main` (revisions come in order; one may come in several calls). */
  record(main: number, rows: number): void {
    if (main - this.latest > WINDOW) this.latest = main - WINDOW
    while (this.latest < main) this.upTo[++this.latest % WINDOW] = this.total
    this.total += rows
    this.upTo[main % WINDOW] = this.total
  }

  /** Rows after revision `rev`, or undefined when it is older than the window. */
  after(rev: number): number | undefined {
    if (rev >= this.latest) return 0
    if (this.latest - rev >= WINDOW) return undefined
    return this.total - this.upTo[rev % WINDOW]!
  }
}
