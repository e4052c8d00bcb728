/** A live line chart (uPlot) of one series over time. */
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface Series {
  /** unix seconds */
  times: number[]
  values: (number | null)[]
}

export function Chart({ title, unit, series, format }: { title: string; unit: string; series: Series; format: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  useEffect(() => {
    plot.current = new uPlot(
      {
        width: 360,
        height: 160,
        legend: { show: false },
        series: [{}, { label: title, stroke: '#2f6fb1', width: 2, fill: 'rgba(47,111,177,0.12)' }],
        axes: [{}, { size: 70, values: (_u, ticks) => ticks.map(format) }],
        scales: { y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      },
      [series.times, series.values],
      box.current!,
    )
    return () => plot.current?.destroy()
  }, [])
  useEffect(() => plot.current?.setData([series.times, series.values]), [series])
  const last = series.values[series.values.length - 1]
  return (
    <figure class="chart">
      <figcaption>
        {title}: <strong>{last === null || last === undefined ? '–' : format(last)}</strong> <span class="unit">{unit}</span>
      </figcaption>
      <div ref={box} role="img" aria-label={`${title} over the last minutes`} />
    </figure>
  )
}
