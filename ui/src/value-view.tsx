/** A value shown in one of the views that fit it, with what Kubernetes format it is in, if any. */
import { useState } from 'preact/hooks'
import { type DecodedValue, render, type ViewName, viewLabels } from './value-format.js'

export function ValueView({ value }: { value: DecodedValue }) {
  const [view, setView] = useState<ViewName>(value.best)
  const shown = value.views.includes(view) ? view : value.best
  return (
    <div class="value">
      {value.kubernetes && <KubernetesSummary value={value} />}
      <fieldset class="segmented">
        <legend>Show value as</legend>
        {value.views.map((v) => (
          <label key={v}>
            <input type="radio" name="value-view" value={v} checked={shown === v} onChange={() => setView(v)} />
            {viewLabels[v]}
          </label>
        ))}
      </fieldset>
      <pre class={shown === 'hex' ? 'value-text hex' : 'value-text'} tabIndex={0} aria-label={`Value (${viewLabels[shown]})`}>
        {render(value, shown)}
      </pre>
    </div>
  )
}

function KubernetesSummary({ value }: { value: DecodedValue }) {
  const k = value.kubernetes!
  if (k.format === 'encrypted') {
    return (
      <p class="k8s encrypted" role="note">
        Kubernetes object, <strong>encrypted</strong> at rest (provider {k.encrypted.provider}
        {k.encrypted.keyName ? `, key ${k.encrypted.keyName}` : ''}): the gateway cannot show its content.
      </p>
    )
  }
  const o = k.object
  return (
    <dl class="k8s" aria-label="Kubernetes object">
      <dt>Stored as</dt>
      <dd>{k.format === 'protobuf' ? `Kubernetes protobuf${k.object.contentType ? ` (${k.object.contentType})` : ''}` : 'Kubernetes JSON'}</dd>
      <dt>apiVersion</dt>
      <dd>{o.apiVersion}</dd>
      <dt>kind</dt>
      <dd>{o.kind}</dd>
      {o.namespace !== undefined && (
        <>
          <dt>namespace</dt>
          <dd>{o.namespace}</dd>
        </>
      )}
      {o.name !== undefined && (
        <>
          <dt>name</dt>
          <dd>{o.name}</dd>
        </>
      )}
    </dl>
  )
}
