/**
 * Counters and histograms for the request path, whose label sets are resolved once into cells. Counting
 * in a cell adds to plain numbers; prom-client sees the sums when the metric is read. prom-client's own
 * `inc` and `observe` hash and check the label set on every call, and a histogram's `observe` looks its
 * bucket up by the bound's decimal string: together about a tenth of the main thread's CPU in a durable
 * put.
 * The exposition is prom-client's, line for line.
 */
import {
  Counter,
  type CounterConfiguration,
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
} from 'prom-client'

/** One label set's count. */
export class CounterCell {
  pending = 0

  inc(by = 1): void {
    this.pending += by
  }
}

/** A counter whose label sets are cells. */
export class CellCounter<T extends string> extends Counter<T> {
  private readonly cells: Array<{ cell: CounterCell; child: Counter.Internal }> = []

  constructor(config: CounterConfiguration<T>) {
    super({
      ...config,
      // called by prom-client before each read, with the metric as `this`
      collect(this: Counter<T>) {
        ;(this as CellCounter<T>).settle()
      },
    })
  }

  /** The cell of `labels`; shown at zero from now on, or (`shownAtZero` false) once first counted. */
  cell(labels: LabelValues<T> = {}, shownAtZero = true): CounterCell {
    const child = this.labels(labels)
    if (shownAtZero) child.inc(0)
    const cell = new CounterCell()
    this.cells.push({ cell, child })
    return cell
  }

  private settle(): void {
    for (const { cell, child } of this.cells) {
      if (cell.pending === 0) continue
      child.inc(cell.pending)
      cell.pending = 0
    }
  }
}

/** One label set's observations: a count per bucket (the last one +Inf), their sum and count. */
export class HistogramCell {
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(
    readonly labels: LabelValues<string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const { bounds } = this
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

type ExportedValue = {
  labels: Record<string, string | number>
  sharedLabels?: LabelValues<string>
  value: number
  metricName: string
  exemplar: null | undefined
}

/** A histogram whose label sets are cells, made on first use and kept by their label values. */
export class CellHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[]
  private readonly cells = new Map<string, HistogramCell>()
  private readonly metricName: string

  constructor(config: Omit<HistogramConfiguration<T>, 'collect'> & { buckets: number[] }) {
    super(config)
    this.bounds = [...config.buckets].sort((a, b) => a - b)
    this.metricName = config.name
  }

  /** The cell of `labels`; `key` names the label set (its values, in a fixed order) for the cache. */
  cell(key: string, labels: () => LabelValues<T>): HistogramCell {
    let cell = this.cells.get(key)
    if (!cell) this.cells.set(key, (cell = new HistogramCell(labels(), this.bounds)))
    return cell
  }

  override reset(): void {
    // prom-client's constructor calls this before the cells exist
    for (const cell of this.cells?.values() ?? []) {
      cell.counts.fill(0)
      cell.sum = 0
      cell.count = 0
    }
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const data = await this.getForPromString()
    const values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }))
    // prom-client's own histograms answer this shape, without the `collect` its type declares
    return { ...data, values } as unknown as MetricObjectWithValues<MetricValueWithName<T>>
  }

  /** What prom-client's registry writes out: the shape of prom-client's own histograms. */
  async getForPromString(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const bucketName = `${this.metricName}_bucket`
    const values: ExportedValue[] = []
    for (const cell of this.cells.values()) {
      let cumulative = 0
      this.bounds.forEach((le, i) => {
        cumulative += cell.counts[i]!
        values.push({ labels: { le }, sharedLabels: cell.labels, value: cumulative, metricName: bucketName, exemplar: null })
      })
      values.push({ labels: { le: '+Inf' }, sharedLabels: cell.labels, value: cell.count, metricName: bucketName, exemplar: null })
      values.push({ labels: {}, sharedLabels: cell.labels, value: cell.sum, metricName: `${this.metricName}_sum`, exemplar: undefined })
      values.push({ labels: {}, sharedLabels: cell.labels, value: cell.count, metricName: `${this.metricName}_count`, exemplar: undefined })
    }
    const { name, help, type, aggregator } = this as unknown as { name: string; help: string; type: string; aggregator: string }
    return { name, help, type, values, aggregator }
  }
}
