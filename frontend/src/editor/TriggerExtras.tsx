// The webhook trigger's further settings, each in its own collapsible section: several signing
// secrets (rotation), an IP allowlist, duplicate deliveries, event-type filters, the synchronous
// answer and the rate limit. They edit the same document fields the API takes.

import { useId } from 'react'
import type { TriggerDoc } from '../api.ts'
import { useCanEdit } from '../auth.tsx'
import { FieldShell } from './fields.tsx'

type WebhookDoc = NonNullable<TriggerDoc['webhook']>
type VerifyDoc = NonNullable<WebhookDoc['verify']>

/** "a, b\nc" → ["a", "b", "c"]; empty → undefined (the key is left out). */
export function splitList(text: string): string[] | undefined {
  const items = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)
  return items.length ? items : undefined
}

/** Drops keys whose value is undefined, '' or false, and returns undefined for an empty object. */
export function compact<T extends object>(o: T): T | undefined {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '' && v !== false) out[k] = v
  return Object.keys(out).length ? (out as T) : undefined
}

interface Props {
  webhook: WebhookDoc
  setWebhook: (patch: Partial<WebhookDoc>, key: string) => void
  errs: (field: string) => string[]
  stepIds: string[]
}

function Errors({ list }: { list: string[] }) {
  return (
    <>
      {list.map((e) => (
        <p key={e} className="field__error">
          {e}
        </p>
      ))}
    </>
  )
}

/** Every signing secret or token; a request passes when any one matches, so a new one can be added before the old is removed. */
export function SecretsList({ verify, setVerify, errs }: { verify: VerifyDoc; setVerify: (v: VerifyDoc, key: string) => void; errs: (f: string) => string[] }) {
  const canEdit = useCanEdit()
  const uid = useId()
  const secrets = verify.secrets?.length ? verify.secrets : ['']
  const noun = verify.scheme === 'token' ? 'Token' : 'Signing secret'
  const set = (list: string[]) => {
    const kept = list.filter((s, i) => s !== '' || i < list.length - 1)
    setVerify({ ...verify, secrets: kept.some(Boolean) ? kept : undefined }, 'webhook.verify.secrets')
  }
  return (
    <fieldset className="field" aria-describedby={`${uid}-help`}>
      <legend className="field__label">{noun === 'Token' ? 'Tokens' : 'Signing secrets'}</legend>
      <p className="field__help" id={`${uid}-help`}>
        A request passes when any one matches: add the new {noun.toLowerCase()} first, switch the sender over, then remove the old one. Stored in the
        workflow; for shared secrets prefer a connection.
      </p>
      {secrets.map((s, i) => (
        <div key={i} className="inline">
          <input
            id={i === 0 ? `${uid}-0` : undefined}
            type="password"
            autoComplete="off"
            aria-label={`${noun} ${i + 1}`}
            value={s}
            readOnly={!canEdit}
            onChange={(e) => set(secrets.map((x, j) => (j === i ? e.target.value : x)))}
          />
          {canEdit && secrets.length > 1 ? (
            <button type="button" className="btn btn--small" aria-label={`Remove ${noun.toLowerCase()} ${i + 1}`} onClick={() => set(secrets.filter((_, j) => j !== i))}>
              Remove
            </button>
          ) : null}
          <Errors list={errs(`webhook.verify.secrets[${i}]`)} />
        </div>
      ))}
      {canEdit ? (
        <button type="button" className="btn btn--small" onClick={() => setVerify({ ...verify, secrets: [...secrets, ''] }, 'webhook.verify.secrets')}>
          Add a {noun.toLowerCase()}
        </button>
      ) : null}
      <Errors list={errs('webhook.verify.secrets')} />
    </fieldset>
  )
}

export function TriggerExtras({ webhook, setWebhook, errs, stepIds }: Props) {
  const canEdit = useCanEdit()
  const uid = useId()
  const dedupe = webhook.dedupe ?? {}
  const events = webhook.events
  const verify = webhook.verify
  const setDedupe = (patch: Partial<NonNullable<WebhookDoc['dedupe']>>, key: string) => setWebhook({ dedupe: compact({ ...dedupe, ...patch }) }, key)
  const setEvents = (patch: Partial<NonNullable<WebhookDoc['events']>>, key: string) => {
    const next = { ...events, ...patch, accept: (patch.accept ?? events?.accept) || [] }
    setWebhook({ events: next.accept.length || next.header || next.expression ? next : undefined }, key)
  }
  const sync = webhook.respond === 'sync'
  return (
    <>
      <details className="advanced">
        <summary>Allowed IP addresses</summary>
        <div className="advanced__body">
          <FieldShell
            id={`${uid}-ips`}
            label="Only accept requests from"
            help="Addresses or networks (CIDR), one per line or separated by commas; empty accepts any address."
            errors={errs('webhook.verify.allow_ips')}
          >
            <ListInput
              id={`${uid}-ips`}
              items={verify?.allow_ips}
              readOnly={!canEdit}
              placeholder={'192.0.2.10\n198.51.100.0/24'}
              onDone={(ips) => {
                const next = { ...(verify ?? { scheme: 'none' }), allow_ips: ips }
                setWebhook({ verify: next.scheme === 'none' && !ips ? undefined : next }, 'webhook.verify.allow_ips')
              }}
            />
          </FieldShell>
        </div>
      </details>

      <details className="advanced">
        <summary>Duplicate deliveries</summary>
        <div className="advanced__body">
          <p className="field__help">
            Senders retry; a delivery with an event id already seen starts no second run. By default the id is read from webhook-id, X-GitHub-Delivery or
            Idempotency-Key.
          </p>
          <label className="check">
            <input
              type="checkbox"
              checked={!!dedupe.disabled}
              disabled={!canEdit}
              onChange={(e) => setDedupe({ disabled: e.target.checked }, 'webhook.dedupe.disabled')}
            />
            Run every delivery, even repeated ones
          </label>
          {!dedupe.disabled ? (
            <>
              <FieldShell id={`${uid}-dh`} label="Event id header" help="e.g. X-Shopify-Webhook-Id" errors={errs('webhook.dedupe.header')}>
                <input id={`${uid}-dh`} type="text" value={dedupe.header ?? ''} readOnly={!canEdit} onChange={(e) => setDedupe({ header: e.target.value }, 'webhook.dedupe.header')} />
              </FieldShell>
              <FieldShell id={`${uid}-de`} label="or an expression giving the id" help="e.g. trigger.body.id" errors={errs('webhook.dedupe.expression')}>
                <input id={`${uid}-de`} type="text" value={dedupe.expression ?? ''} readOnly={!canEdit} onChange={(e) => setDedupe({ expression: e.target.value }, 'webhook.dedupe.expression')} />
              </FieldShell>
              <FieldShell id={`${uid}-dw`} label="Remember ids for" help="A duration such as 168h (the default, a week)" errors={errs('webhook.dedupe.window')}>
                <input id={`${uid}-dw`} type="text" value={dedupe.window ?? ''} placeholder="168h" readOnly={!canEdit} onChange={(e) => setDedupe({ window: e.target.value }, 'webhook.dedupe.window')} />
              </FieldShell>
            </>
          ) : null}
          <Errors list={errs('webhook.dedupe')} />
        </div>
      </details>

      <details className="advanced">
        <summary>Event types</summary>
        <div className="advanced__body">
          <p className="field__help">Only the listed event types start a run; other requests are answered 202 and kept in the inbox as ignored.</p>
          <FieldShell id={`${uid}-ea`} label="Accepted event types" help="One per line or separated by commas, e.g. order.created" errors={errs('webhook.events.accept')}>
            <ListInput
              id={`${uid}-ea`}
              items={events?.accept}
              readOnly={!canEdit}
              onDone={(accept) => setEvents({ accept: accept ?? [] }, 'webhook.events.accept')}
            />
          </FieldShell>
          <FieldShell id={`${uid}-eh`} label="Event type header" help="e.g. X-GitHub-Event" errors={errs('webhook.events.header')}>
            <input id={`${uid}-eh`} type="text" value={events?.header ?? ''} readOnly={!canEdit} onChange={(e) => setEvents({ header: e.target.value || undefined }, 'webhook.events.header')} />
          </FieldShell>
          <FieldShell id={`${uid}-ee`} label="or an expression giving the type" help="e.g. trigger.body.type" errors={errs('webhook.events.expression')}>
            <input
              id={`${uid}-ee`}
              type="text"
              value={events?.expression ?? ''}
              readOnly={!canEdit}
              onChange={(e) => setEvents({ expression: e.target.value || undefined }, 'webhook.events.expression')}
            />
          </FieldShell>
          <Errors list={errs('webhook.events')} />
        </div>
      </details>

      <details className="advanced">
        <summary>Answer and rate limit</summary>
        <div className="advanced__body">
          <FieldShell id={`${uid}-respond`} label="Answer the sender" errors={errs('webhook.respond')}>
            <select
              id={`${uid}-respond`}
              value={sync ? 'sync' : 'accepted'}
              disabled={!canEdit}
              onChange={(e) =>
                e.target.value === 'sync'
                  ? setWebhook({ respond: 'sync', response: { step: webhook.response?.step ?? stepIds[stepIds.length - 1] ?? '' } }, 'webhook.respond')
                  : setWebhook({ respond: undefined, response: undefined }, 'webhook.respond')
              }
            >
              <option value="accepted">At once: 202 with the run id</option>
              <option value="sync">When the run ends: with a step’s output</option>
            </select>
          </FieldShell>
          {sync ? (
            <>
              <FieldShell id={`${uid}-rstep`} label="Answer with the output of" errors={errs('webhook.response.step')}>
                <select
                  id={`${uid}-rstep`}
                  value={webhook.response?.step ?? ''}
                  disabled={!canEdit}
                  onChange={(e) => setWebhook({ response: { ...webhook.response, step: e.target.value } }, 'webhook.response.step')}
                >
                  {stepIds.map((id) => (
                    <option key={id} value={id}>
                      step {id}
                    </option>
                  ))}
                </select>
              </FieldShell>
              <FieldShell id={`${uid}-rto`} label="Wait at most" help="Default 10s, at most 30s; then the answer is 202" errors={errs('webhook.response.timeout')}>
                <input
                  id={`${uid}-rto`}
                  type="text"
                  value={webhook.response?.timeout ?? ''}
                  placeholder="10s"
                  readOnly={!canEdit}
                  onChange={(e) => setWebhook({ response: { step: webhook.response?.step ?? '', timeout: e.target.value || undefined } }, 'webhook.response.timeout')}
                />
              </FieldShell>
            </>
          ) : null}
          <FieldShell id={`${uid}-rate`} label="Requests per minute" help="Beyond it the sender gets 429; empty uses the instance default" errors={errs('webhook.rate_limit')}>
            <input
              id={`${uid}-rate`}
              type="number"
              min={0}
              value={webhook.rate_limit ?? ''}
              readOnly={!canEdit}
              onChange={(e) => setWebhook({ rate_limit: e.target.value ? Number(e.target.value) : undefined }, 'webhook.rate_limit')}
            />
          </FieldShell>
        </div>
      </details>
    </>
  )
}

/** A list typed one item per line (or comma-separated), handed on when the field is left. */
function ListInput({
  id,
  items,
  readOnly,
  placeholder,
  onDone,
}: {
  id: string
  items: string[] | null | undefined
  readOnly: boolean
  placeholder?: string
  onDone: (items: string[] | undefined) => void
}) {
  return (
    <textarea
      id={id}
      rows={2}
      readOnly={readOnly}
      key={(items ?? []).join(',')}
      defaultValue={(items ?? []).join('\n')}
      placeholder={placeholder}
      onBlur={(e) => onDone(splitList(e.target.value))}
    />
  )
}
