/**
 * The subset of Go's text/tabwriter that kubeadm's tables use (flags 0, padchar ' '): a line's tab-terminated
 * cells form columns; a column's width is max(minWidth, widest cell + padding) over a block of consecutive
 * lines that have that column; the text after a line's last tab is written as is.
 */
export interface TabWriterOptions {
  minWidth: number
  padding: number
}

export function formatTabbed(text: string, { minWidth, padding }: TabWriterOptions): string {
  const lines = text.split('\n')
  const trailingNewline = lines.at(-1) === ''
  if (trailingNewline) lines.pop()
  const rows = lines.map((line) => line.split('\t'))
  const widths = rows.map((cells) => new Array<number>(cells.length - 1).fill(0))
  computeWidths(rows, widths, 0, 0, rows.length, minWidth, padding)
  const out = rows.map((cells, i) =>
    cells.map((cell, column) => (column < cells.length - 1 ? cell.padEnd(widths[i]![column]!, ' ') : cell)).join(''),
  )
  return out.join('\n') + (trailingNewline ? '\n' : '')
}

/** Go's tabwriter.format: a column block ends at the first line that lacks the column. */
function computeWidths(rows: string[][], widths: number[][], column: number, from: number, to: number, minWidth: number, padding: number): void {
  let line = from
  while (line < to) {
    if (rows[line]!.length - 1 <= column) {
      line++
      continue
    }
    const start = line
    let width = minWidth
    while (line < to && rows[line]!.length - 1 > column) {
      width = Math.max(width, [...rows[line]![column]!].length + padding)
      line++
    }
    for (let i = start; i < line; i++) widths[i]![column] = width
    computeWidths(rows, widths, column + 1, start, line, minWidth, padding)
  }
}
