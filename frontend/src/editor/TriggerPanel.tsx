// The trigger panel: webhook URL with copy, methods and verification, "listen for test event"
// with the captured request, a send-a-test-request form; schedules with the sentence and the
// next fire times; a small form builder with a link to the hosted form.

import { useQuery } from '@tanstack/react-query'
import { useEffect, useId, useState, type FormEvent } from 'react'
import { ApiError, type Sample, type ScheduleDescription, type TriggerDoc, type WorkflowDetail } from '../api.ts'

type WebhookDoc = NonNullable<TriggerDoc['webhook']>
type ScheduleDoc = NonNullable<TriggerDoc['schedule']>
import { useApi } from '../apiContext.ts'
import { useCanEdit } from '../auth.tsx'
import { CopyButton, JsonBlock, SidePanelHead } from '../components.tsx'
import { formatDateTime } from '../format.ts'
import { fieldErrors, type LocatedError } from './doc.ts'
import { FieldShell } from './fields.tsx'
import { SecretsList, TriggerExtras } from './TriggerExtras.tsx'

export interface TriggerPanelProps {
  trigger: TriggerDoc
  workflow: WorkflowDetail | null
  /** True when the saved version differs from what is shown. */
  dirty: boolean
  errors: LocatedError[]
  onChange: (next: TriggerDoc, key: string) => void
  sample: Sample | undefined
  listening: boolean
  onListen: (on: boolean) => void
  /** Every step id, for the synchronous answer's step. */
  stepIds?: string[]
  /** The URL an unsaved webhook workflow will have once saved. */
  draftWebhook?: { webhook_url: string; test_url: string }
}

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE']

export function TriggerPanel(props: TriggerPanelProps) {
  const { trigger } = props
  const label = trigger.type ? trigger.type[0].toUpperCase() + trigger.type.slice(1) : 'Trigger'
  const general = props.errors.filter((e) => e.trigger && (e.field === '' || e.field === 'type'))
  return (
    <div className="trigger-panel">
      <SidePanelHead kind="Trigger" title={label} />
      {general.map((e, i) => (
        <div key={i} className="notice notice--error" role="alert">
          {e.message}
        </div>
      ))}
      {trigger.type === 'webhook' ? <WebhookPanel {...props} /> : null}
      {trigger.type === 'schedule' ? <SchedulePanel {...props} /> : null}
      {trigger.type === 'form' ? <FormPanel {...props} /> : null}
    </div>
  )
}

// ---- webhook ---------------------------------------------------------------------------

function WebhookPanel({ trigger, workflow, errors, onChange, sample, listening, onListen, stepIds, draftWebhook }: TriggerPanelProps) {
  const canEdit = useCanEdit()
  const uid = useId()
  const webhook: WebhookDoc = trigger.webhook ?? {}
  const methods = webhook.methods?.length ? webhook.methods : ['POST']
  const setWebhook = (patch: Partial<WebhookDoc>, key: string) => {
    const next: Record<string, unknown> = { ...webhook, ...patch }
    for (const k of Object.keys(patch)) if (next[k] === undefined) delete next[k]
    onChange({ ...trigger, webhook: next as WebhookDoc }, key)
  }
  const errs = (f: string) => fieldErrors(errors, null, f)
  const verify = webhook.verify

  return (
    <>
      <section className="panel-section" aria-labelledby={`${uid}-url`}>
        <h3 id={`${uid}-url`}>Webhook URL</h3>
        {workflow?.webhook_url ? (
          <>
            <p className="field__help">Apps send their events here. It starts a run while the workflow is on.</p>
            <UrlRow url={workflow.webhook_url} label="Copy webhook URL" testId="webhook-url" />
            {workflow.test_url ? (
              <>
                <p className="field__help">Test URL: requests here are kept as sample data and start no run.</p>
                <UrlRow url={workflow.test_url} label="Copy test URL" testId="test-url" />
              </>
            ) : null}
          </>
        ) : workflow?.id && !canEdit ? (
          <p className="notice">Only editors and admins see the webhook URL: it lets anyone start runs.</p>
        ) : draftWebhook ? (
          <>
            <p className="field__help">
              This is the workflow’s URL: set it up in the sending app now. It answers once the workflow is saved, and starts runs while it is on.
            </p>
            <UrlRow url={draftWebhook.webhook_url} label="Copy webhook URL" testId="webhook-url" />
          </>
        ) : (
          <p className="notice">Save the workflow to get its webhook URL. A workflow needs at least one step to be saved.</p>
        )}
      </section>

      <fieldset className="field">
        <legend className="field__label">Accepted methods</legend>
        <div className="inline-checks">
          {METHODS.map((m) => (
            <label key={m} className="check">
              <input
                type="checkbox"
                checked={methods.includes(m)}
                disabled={!canEdit || (methods.length === 1 && methods[0] === m)}
                onChange={(e) =>
                  setWebhook({ methods: e.target.checked ? [...methods, m] : methods.filter((x) => x !== m) }, 'webhook.methods')
                }
              />
              {m}
            </label>
          ))}
        </div>
        {errs('webhook.methods').map((e) => (
          <p key={e} className="field__error">
            {e}
          </p>
        ))}
      </fieldset>

      <details className="advanced">
        <summary>Verification</summary>
        <div className="advanced__body">
          <FieldShell id={`${uid}-scheme`} label="Check who sent the request" errors={errs('webhook.verify.scheme')}>
            <select
              id={`${uid}-scheme`}
              value={verify?.scheme ?? 'none'}
              disabled={!canEdit}
              onChange={(e) =>
                setWebhook(
                  {
                    verify:
                      e.target.value !== 'none'
                        ? { ...(verify ?? {}), scheme: e.target.value }
                        : verify?.allow_ips?.length
                          ? { scheme: 'none', allow_ips: verify.allow_ips }
                          : undefined,
                  },
                  'webhook.verify.scheme',
                )
              }
            >
              <option value="none">Anyone with the URL</option>
              <option value="token">Shared token in a header</option>
              <option value="standard-webhooks">Standard Webhooks signature</option>
              <option value="github">GitHub signature</option>
              <option value="stripe">Stripe signature</option>
              <option value="slack">Slack signature</option>
              <option value="shopify">Shopify signature</option>
              <option value="hmac">HMAC signature</option>
            </select>
          </FieldShell>
          {verify && verify.scheme && verify.scheme !== 'none' ? (
            <>
              <SecretsList verify={verify} setVerify={(v, key) => setWebhook({ verify: v }, key)} errs={errs} />
              {verify.scheme === 'token' || verify.scheme === 'hmac' ? (
                <FieldShell id={`${uid}-header`} label="Header" errors={errs('webhook.verify.header')}>
                  <input
                    id={`${uid}-header`}
                    type="text"
                    value={verify.header ?? ''}
                    placeholder={verify.scheme === 'token' ? 'X-Api-Key' : 'X-Signature'}
                    readOnly={!canEdit}
                    onChange={(e) => setWebhook({ verify: { ...verify, header: e.target.value || undefined } }, 'webhook.verify.header')}
                  />
                </FieldShell>
              ) : null}
              {errs('webhook.verify')
                .slice(0, 3)
                .map((e) => (
                  <p key={e} className="field__error">
                    {e}
                  </p>
                ))}
            </>
          ) : null}
        </div>
      </details>

      <TriggerExtras webhook={webhook} setWebhook={setWebhook} errs={errs} stepIds={stepIds ?? []} />

      <section className="panel-section" aria-labelledby={`${uid}-test`}>
        <h3 id={`${uid}-test`}>Test event</h3>
        <p className="field__help">
          Send one request to the test URL. It becomes the sample data that steps can pick fields from.
        </p>
        {workflow?.test_url ? (
          <div className="inline">
            {listening ? (
              <>
                <span className="listening" role="status">
                  <span className="pulse" aria-hidden="true" /> Listening for a request to the test URL…
                </span>
                <button type="button" className="btn" onClick={() => onListen(false)}>
                  Stop listening
                </button>
              </>
            ) : (
              <button type="button" className="btn btn--primary" onClick={() => onListen(true)}>
                Listen for test event
              </button>
            )}
          </div>
        ) : null}
        {workflow && listening ? <RecentRequests workflowId={workflow.id} /> : null}
        {sample?.sample ? (
          <div className="sample" data-testid="sample">
            <p role={listening ? undefined : 'status'} className="sample__head">
              <strong>Sample data</strong>{' '}
              <span className="muted small">
                {sample.sample.method ?? ''} received {formatDateTime(sample.captured_at)}
              </span>
            </p>
            <h4>Body</h4>
            <JsonBlock value={sample.sample.body} label="Sample body" />
            <details>
              <summary>Headers</summary>
              <JsonBlock value={sample.sample.headers ?? {}} label="Sample headers" />
            </details>
          </div>
        ) : (
          <p className="muted small">No sample yet.</p>
        )}
        {workflow?.test_url ? <SendTestRequest testUrl={workflow.test_url} methods={methods} onSent={() => onListen(true)} /> : null}
      </section>
    </>
  )
}

/** Parses "Name: value" lines into headers. */
export function parseHeaderLines(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const name = line.slice(0, i).trim()
    if (name) out[name] = line.slice(i + 1).trim()
  }
  return out
}

function SendTestRequest({ testUrl, methods, onSent }: { testUrl: string; methods: string[]; onSent: () => void }) {
  const uid = useId()
  const [method, setMethod] = useState(methods[0] ?? 'POST')
  const [headers, setHeaders] = useState('Content-Type: application/json')
  const [body, setBody] = useState('{\n  "id": 1001,\n  "total": 250,\n  "customer": { "name": "Ada Lovelace", "email": "ada@example.com" }\n}')
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const [busy, setBusy] = useState(false)
  let bodyProblem: string | null = null
  const isJson = /json/i.test(parseHeaderLines(headers)['Content-Type'] ?? parseHeaderLines(headers)['content-type'] ?? '')
  if (isJson && body.trim()) {
    try {
      JSON.parse(body)
    } catch (e) {
      bodyProblem = `Not valid JSON: ${e instanceof Error ? e.message : String(e)}`
    }
  }

  const send = async (e: FormEvent) => {
    e.preventDefault()
    if (bodyProblem) return
    setBusy(true)
    setResult(null)
    onSent()
    // Same origin as the app (the URL may name a public host the browser cannot reach).
    const url = new URL(testUrl, window.location.href)
    try {
      const res = await fetch(url.pathname + url.search, {
        method,
        headers: parseHeaderLines(headers),
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        credentials: 'omit',
      })
      const text = await res.text()
      setResult({ ok: res.ok, text: `${res.status} ${res.statusText}${text ? ` · ${text.slice(0, 200)}` : ''}` })
    } catch (err) {
      setResult({ ok: false, text: err instanceof Error ? err.message : String(err) })
    } finally {
      setBusy(false)
    }
  }

  return (
    <details className="advanced send-test" open>
      <summary>Send a test request</summary>
      <form className="advanced__body" onSubmit={(e) => void send(e)} aria-label="Send a test request">
        <FieldShell id={`${uid}-method`} label="Method">
          <select id={`${uid}-method`} value={method} onChange={(e) => setMethod(e.target.value)}>
            {methods.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </FieldShell>
        <FieldShell id={`${uid}-headers`} label="Headers" help="One per line: Name: value">
          <textarea id={`${uid}-headers`} rows={2} className="mono" value={headers} onChange={(e) => setHeaders(e.target.value)} aria-describedby={`${uid}-headers-help`} />
        </FieldShell>
        <FieldShell id={`${uid}-body`} label="Body" errors={bodyProblem ? [bodyProblem] : undefined}>
          <textarea id={`${uid}-body`} rows={7} className="mono" value={body} onChange={(e) => setBody(e.target.value)} spellCheck={false} />
        </FieldShell>
        <button type="submit" className="btn btn--primary" disabled={busy || !!bodyProblem}>
          {busy ? 'Sending…' : 'Send test request'}
        </button>
        {result ? (
          <p className={result.ok ? 'small' : 'small error-text'} role="status">
            Answer: {result.text}
          </p>
        ) : null}
      </form>
    </details>
  )
}

// ---- schedule --------------------------------------------------------------------------

/** How long typing must pause before the spec is sent to be described. */
export const DESCRIBE_DELAY_MS = 300

/** A JSON value, once it has stopped changing for ms (compared by content, so a re-render with an
 * equal value does not restart the wait). */
function useDebounced<T>(value: T, ms: number): T {
  const key = JSON.stringify(value)
  const [settled, setSettled] = useState({ key, value })
  useEffect(() => {
    if (key === settled.key) return
    const t = setTimeout(() => setSettled({ key, value: JSON.parse(key) as T }), ms)
    return () => clearTimeout(t)
  }, [key, ms, settled.key])
  return settled.value
}

function TypedSchedule({ words }: { words: { data?: ScheduleDescription; error: Error | null; isFetching: boolean } }) {
  if (words.error) {
    const message = words.error instanceof ApiError ? words.error.problem.detail || words.error.message : words.error.message
    return (
      <p data-testid="cron-words" className="error-text" role="alert">
        {message}
      </p>
    )
  }
  if (!words.data) return <p className="muted small">{words.isFetching ? 'Reading the schedule…' : ''}</p>
  const next = words.data.next?.[0]
  return (
    <p data-testid="cron-words">
      <strong>{words.data.description}</strong> ({words.data.timezone})
      {next ? (
        <>
          {' '}
          · next <time dateTime={next}>{next.slice(0, 16).replace('T', ' ')}</time>
        </>
      ) : null}
    </p>
  )
}

function SchedulePanel({ trigger, workflow, dirty, errors, onChange }: TriggerPanelProps) {
  const api = useApi()
  const canEdit = useCanEdit()
  const uid = useId()
  const schedule = trigger.schedule ?? { cron: '' }
  const set = (patch: Partial<typeof schedule>, key: string) => onChange({ ...trigger, schedule: { ...schedule, ...patch } }, key)
  const errs = (f: string) => fieldErrors(errors, null, f)
  const info = useQuery({
    queryKey: ['schedule', workflow?.id, workflow?.version],
    queryFn: ({ signal }) => api.scheduleInfo(workflow!.id, signal),
    enabled: !!workflow?.id,
  })
  // The spec being typed, in the server's words (the same describer as the saved one), once
  // typing pauses.
  const edited = (dirty || !workflow) && (schedule.cron !== info.data?.cron || (schedule.timezone || 'UTC') !== info.data?.timezone)
  const typed = useDebounced({ cron: schedule.cron.trim(), timezone: (schedule.timezone ?? '').trim() }, DESCRIBE_DELAY_MS)
  const words = useQuery({
    queryKey: ['schedule-describe', typed.cron, typed.timezone],
    queryFn: ({ signal }) => api.describeSchedule(typed.cron, typed.timezone, signal),
    enabled: edited && typed.cron !== '',
    staleTime: Infinity,
  })
  return (
    <>
      <FieldShell
        id={`${uid}-cron`}
        label="When (cron)"
        required
        help="Five fields: minute hour day month weekday — e.g. 0 9 * * 1-5 is 9:00 on weekdays. @every 1h also works."
        errors={errs('schedule.cron')}
      >
        <input id={`${uid}-cron`} type="text" className="mono" value={schedule.cron} readOnly={!canEdit} onChange={(e) => set({ cron: e.target.value }, 'schedule.cron')} aria-describedby={`${uid}-cron-help`} />
      </FieldShell>
      <FieldShell id={`${uid}-tz`} label="Time zone" help="IANA name such as Europe/Berlin (default UTC)." errors={errs('schedule.timezone')}>
        <input id={`${uid}-tz`} type="text" value={schedule.timezone ?? ''} placeholder="UTC" readOnly={!canEdit} onChange={(e) => set({ timezone: e.target.value || undefined }, 'schedule.timezone')} aria-describedby={`${uid}-tz-help`} />
      </FieldShell>
      <FieldShell id={`${uid}-misfire`} label="If the server was down at a fire time" errors={errs('schedule.misfire')}>
        <select id={`${uid}-misfire`} value={schedule.misfire ?? 'skip'} disabled={!canEdit} onChange={(e) => set({ misfire: e.target.value === 'skip' ? undefined : (e.target.value as ScheduleDoc['misfire']) }, 'schedule.misfire')}>
          <option value="skip">Skip missed runs</option>
          <option value="run_once">Run once for all missed times</option>
        </select>
      </FieldShell>
      <section className="panel-section" aria-label="Schedule in words">
        {edited && typed.cron !== '' ? <TypedSchedule words={words} /> : null}
        {info.data ? (
          <>
            <p>
              <strong>{info.data.description}</strong> ({info.data.timezone})
            </p>
            <h4>Next five runs</h4>
            <ol className="next-runs">
              {(info.data.next ?? []).map((t) => (
                <li key={t}>
                  {/* In the schedule's own time zone, as the server gives it. */}
                  <time dateTime={t}>{t.slice(0, 16).replace('T', ' ')}</time>
                </li>
              ))}
            </ol>
            {dirty && schedule.cron !== info.data.cron ? <p className="muted small">The saved schedule; save to update.</p> : null}
          </>
        ) : workflow ? (
          <p className="muted small">{info.isError ? 'Could not read the schedule.' : 'Loading…'}</p>
        ) : (
          <p className="muted small">Save the workflow to see the next fire times.</p>
        )}
      </section>
    </>
  )
}

// ---- form ------------------------------------------------------------------------------

type FormDoc = NonNullable<TriggerDoc['form']>
type FormFieldDoc = NonNullable<FormDoc['fields']>[number]

const FORM_TYPES = ['text', 'textarea', 'email', 'number', 'date', 'select', 'radio', 'checkbox', 'hidden']

function FormPanel({ trigger, workflow, errors, onChange }: TriggerPanelProps) {
  const canEdit = useCanEdit()
  const uid = useId()
  const form: FormDoc = trigger.form ?? { fields: [] }
  const fields = form.fields ?? []
  const set = (patch: Partial<typeof form>, key: string) => onChange({ ...trigger, form: { ...form, ...patch } }, key)
  const setField = (i: number, patch: Partial<FormFieldDoc>, key: string) =>
    set({ fields: fields.map((f, j) => (j === i ? { ...f, ...patch } : f)) }, `form.fields.${i}.${key}`)
  const errs = (f: string) => fieldErrors(errors, null, f)
  return (
    <>
      {workflow?.form_url ? (
        <div className="url-row">
          <a href={workflow.form_url} target="_blank" rel="noreferrer">
            Open the hosted form
          </a>
          <CopyButton text={workflow.form_url} label="Copy form URL" />
        </div>
      ) : workflow?.id && !canEdit ? (
        <p className="notice">Only editors and admins see the form’s address.</p>
      ) : (
        <p className="notice">Save the workflow to get the form’s address.</p>
      )}
      <FieldShell id={`${uid}-title`} label="Title" errors={errs('form.title')}>
        <input id={`${uid}-title`} type="text" value={form.title ?? ''} readOnly={!canEdit} onChange={(e) => set({ title: e.target.value }, 'form.title')} />
      </FieldShell>
      <fieldset className="field">
        <legend className="field__label">Fields</legend>
        {fields.map((f, i) => (
          <div key={i} className="form-field-row">
            <label className="visually-hidden" htmlFor={`${uid}-f${i}-label`}>
              Label of field {i + 1}
            </label>
            <input id={`${uid}-f${i}-label`} className="input" value={f.label ?? ''} placeholder="Label" readOnly={!canEdit} onChange={(e) => setField(i, { label: e.target.value }, 'label')} />
            <label className="visually-hidden" htmlFor={`${uid}-f${i}-key`}>
              Key of field {i + 1}
            </label>
            <input id={`${uid}-f${i}-key`} className="input mono" value={f.key} placeholder="key" readOnly={!canEdit} onChange={(e) => setField(i, { key: e.target.value }, 'key')} />
            <div className="form-field-row__more">
            <label className="visually-hidden" htmlFor={`${uid}-f${i}-type`}>
              Type of field {i + 1}
            </label>
            <select id={`${uid}-f${i}-type`} className="input" value={f.type ?? 'text'} disabled={!canEdit} onChange={(e) => setField(i, { type: e.target.value === 'text' ? undefined : e.target.value }, 'type')}>
              {FORM_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
            <label className="check">
              <input type="checkbox" checked={!!f.required} disabled={!canEdit} onChange={(e) => setField(i, { required: e.target.checked || undefined }, 'required')} />
              required
            </label>
            {canEdit ? (
              <button type="button" className="btn btn--icon" aria-label={`Remove field ${f.label || f.key}`} onClick={() => set({ fields: fields.filter((_, j) => j !== i) }, 'form.fields.remove')}>
                ×
              </button>
            ) : null}
            </div>
            {errs(`form.fields[${i}]`).map((e) => (
              <p key={e} className="field__error form-field-row__error">
                {e}
              </p>
            ))}
          </div>
        ))}
        {canEdit ? (
          <button type="button" className="btn btn--small" onClick={() => set({ fields: [...fields, { key: `field${fields.length + 1}`, label: `Field ${fields.length + 1}` }] }, 'form.fields.add')}>
            Add field
          </button>
        ) : null}
        {errs('form.fields').map((e) => (
          <p key={e} className="field__error">
            {e}
          </p>
        ))}
      </fieldset>
      <FieldShell id={`${uid}-success`} label="Message after sending" errors={errs('form.success')}>
        <input
          id={`${uid}-success`}
          type="text"
          value={form.success?.message ?? ''}
          readOnly={!canEdit}
          onChange={(e) => set({ success: { message: e.target.value } }, 'form.success')}
        />
      </FieldShell>
      <section className="panel-section" aria-label="Form preview">
        <h3>Preview</h3>
        <div className="form-preview" aria-hidden="true">
          <p className="form-preview__title">{form.title || workflow?.name || 'Form'}</p>
          {fields.map((f, i) => (
            <div key={i} className="form-preview__field">
              {f.type === 'checkbox' ? (
                <span>☐ {f.label}</span>
              ) : f.type === 'hidden' ? null : (
                <>
                  <span>
                    {f.label}
                    {f.required ? ' *' : ''}
                  </span>
                  <span className={`form-preview__input${f.type === 'textarea' ? ' is-tall' : ''}`} />
                </>
              )}
            </div>
          ))}
          <span className="form-preview__button">{form.submit_label || 'Submit'}</span>
        </div>
      </section>
    </>
  )
}

/** While listening: what reached the webhook lately, with the verdict (e.g. a failed signature). */
function RecentRequests({ workflowId }: { workflowId: string }) {
  const api = useApi()
  const [since] = useState(() => Date.now() - 2000)
  const inbox = useQuery({
    queryKey: ['inbox', workflowId],
    queryFn: ({ signal }) => api.listInbox(workflowId, signal),
    refetchInterval: 1500,
  })
  const items = (inbox.data?.items ?? []).filter((i) => Date.parse(i.received_at) >= since && i.verdict !== 'captured').slice(0, 5)
  if (!items.length) return null
  return (
    <div className="recent-requests" aria-live="polite">
      <h4>Other requests while listening</h4>
      <ul>
        {items.map((i) => (
          <li key={i.id}>
            <span className="method">{i.method}</span> <span className={`badge badge--${i.verdict === 'accepted' ? 'success' : 'warning'}`}>{i.verdict}</span>{' '}
            <span className="small">{i.reason}</span>
          </li>
        ))}
      </ul>
    </div>
  )
}

/** An address to hand out, with a button that copies it. */
function UrlRow({ url, label, testId }: { url: string; label: string; testId?: string }) {
  return (
    <div className="url-row">
      <code className="url" data-testid={testId}>
        {url}
      </code>
      <CopyButton text={url} label={label} />
    </div>
  )
}
