/** A view's last error (announced at once) and last notice (announced politely), each shown while set. */
export function Messages({ error, notice }: { error: string; notice: string }) {
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
    </>
  )
}
