/** A modal confirmation for anything that changes the cluster: a native <dialog>, so focus and Escape work as the platform does. */
import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'

export interface ConfirmRequest {
  title: string
  body: ComponentChildren
  /** the confirming button's label, naming the action ("Delete", "Save") */
  action: string
  danger?: boolean
}

type Pending = ConfirmRequest & { resolve: (ok: boolean) => void }

/** A function that asks and resolves true once confirmed, and the element to render for it. */
export function useConfirm(): [(req: ConfirmRequest) => Promise<boolean>, ComponentChildren] {
  const [pending, setPending] = useState<Pending | null>(null)
  const ask = (req: ConfirmRequest) => new Promise<boolean>((resolve) => setPending({ ...req, resolve }))
  const done = (ok: boolean) => {
    pending?.resolve(ok)
    setPending(null)
  }
  return [ask, pending ? <ConfirmDialog request={pending} onDone={done} /> : null]
}

function ConfirmDialog({ request, onDone }: { request: ConfirmRequest; onDone: (ok: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current!
    dialog.showModal()
    const onClose = () => onDone(dialog.returnValue === 'confirm')
    dialog.addEventListener('close', onClose)
    return () => dialog.removeEventListener('close', onClose)
  }, [])
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title">
      <form method="dialog">
        <h2 id="confirm-title">{request.title}</h2>
        <div class="confirm-body">{request.body}</div>
        <div class="buttons">
          <button value="cancel" autofocus>
            Cancel
          </button>
          <button value="confirm" class={request.danger ? 'danger' : 'primary'}>
            {request.action}
          </button>
        </div>
      </form>
    </dialog>
  )
}
