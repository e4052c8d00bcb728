/** Arrow keys, Home and End move focus between the controls of a list, as in a listbox. */
export function moveFocus(e: KeyboardEvent, container: HTMLElement, selector: string): void {
  const items = Array.from(container.querySelectorAll<HTMLElement>(selector))
  const at = items.indexOf(document.activeElement as HTMLElement)
  let to: number
  switch (e.key) {
    case 'ArrowDown':
      to = Math.min(at + 1, items.length - 1)
      break
    case 'ArrowUp':
      to = Math.max(at - 1, 0)
      break
    case 'Home':
      to = 0
      break
    case 'End':
      to = items.length - 1
      break
    default:
      return
  }
  e.preventDefault()
  items[to]?.focus()
}
