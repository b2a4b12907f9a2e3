// @vitest-environment jsdom
// Drawing forms from connector specs: every field type, labels, required marks, help, defaults,
// options, how values are written, errors on fields, and connections created inline.
import { QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApiClient, type ConnectorSpec, type FetchLike, type FieldSpec } from '../api.ts'
import { ApiContext } from '../apiContext.ts'
import { SessionProvider } from '../auth.tsx'
import { createQueryClient } from '../queries.ts'
import { ConnectionPicker, SpecForm, suggestConnectionName } from './fields.tsx'

// CodeMirror is replaced by a textarea with the same label wiring (the real editor is driven
// in the browser tests).
vi.mock('./TemplateInput.tsx', () => ({
  default: (p: { id: string; labelledBy: string; value: string; onChange: (v: string) => void; invalid?: boolean; readOnly?: boolean }) => (
    <textarea
      id={p.id}
      aria-labelledby={p.labelledBy}
      aria-invalid={p.invalid || undefined}
      readOnly={p.readOnly}
      value={p.value}
      data-template
      onChange={(e) => p.onChange(e.target.value)}
    />
  ),
}))

afterEach(cleanup)

const FIELDS: FieldSpec[] = [
  { key: 'method', label: 'Method', type: 'select', default: 'GET', options: [{ value: 'GET', label: 'GET' }, { value: 'POST', label: 'POST' }] },
  { key: 'url', label: 'URL', type: 'string', required: true, help: 'http:// or https:// address' },
  { key: 'body', label: 'Raw body', type: 'text' },
  { key: 'timeout', label: 'Timeout seconds', type: 'number', default: 30 },
  { key: 'fail_on_status', label: 'Fail on 4xx/5xx', type: 'boolean', default: true },
  { key: 'headers', label: 'Headers', type: 'object' },
  { key: 'blocks', label: 'Blocks', type: 'list' },
  { key: 'json', label: 'JSON body', type: 'any', help: 'Sent as application/json' },
]

function fakeApi(handler?: FetchLike) {
  const calls: Array<{ url: string; body: unknown }> = []
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, body: init?.body ? JSON.parse(String(init.body)) : undefined })
    if (handler) return handler(url, init)
    if (url === '/api/v1/expressions/evaluate') {
      return new Response(JSON.stringify({ value: 'preview', type: 'string' }), { status: 200 })
    }
    return new Response(JSON.stringify({ items: [] }), { status: 200 })
  }
  return { api: createApiClient({ fetch, readCsrfCookie: () => 'csrf' }), calls }
}

function Harness({
  fields = FIELDS,
  initial = {},
  onValue,
  errors = {},
  role = 'editor',
}: {
  fields?: FieldSpec[]
  initial?: Record<string, unknown>
  onValue: (v: Record<string, unknown>) => void
  errors?: Record<string, string[]>
  role?: string
}) {
  const [value, setValue] = useState(initial)
  return (
    <SpecForm
      fields={fields}
      idPrefix="f"
      value={value}
      onChange={(v) => {
        setValue(v)
        onValue(v)
      }}
      errorsFor={(k) => errors[k] ?? []}
      getData={() => ({ trigger: { body: {} } })}
      key={role}
    />
  )
}

function mount(ui: React.ReactNode, { role = 'editor', api = fakeApi().api } = {}) {
  const session = { me: { kind: 'user' as const, id: 'u', name: 'a@b.c', role: role as 'editor' }, canEdit: role !== 'viewer', signOut: async () => {} }
  return render(
    <ApiContext.Provider value={api}>
      <QueryClientProvider client={createQueryClient()}>
        <SessionProvider session={session}>{ui}</SessionProvider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  )
}

describe('forms drawn from connector specs', () => {
  it('draws one labelled control per field, by type', () => {
    mount(<Harness onValue={() => {}} />)
    // select with its options and the default chosen
    const method = screen.getByLabelText('Method') as HTMLSelectElement
    expect(method.tagName).toBe('SELECT')
    expect([...method.options].map((o) => o.value)).toEqual(['GET', 'POST'])
    expect(method.value).toBe('GET')
    // string and text: template editors, the required one marked
    const url = screen.getByLabelText(/^URL\*/)
    expect(url.hasAttribute('data-template')).toBe(true)
    expect(screen.getByText('http:// or https:// address').id).toBe('f-url-help')
    expect(screen.getByLabelText('Raw body').hasAttribute('data-template')).toBe(true)
    // number: a text box that shows the default as placeholder and help
    const timeout = screen.getByLabelText('Timeout seconds') as HTMLInputElement
    expect(timeout.getAttribute('inputmode')).toBe('decimal')
    expect(timeout.placeholder).toBe('30')
    expect(screen.getByText('Default: 30')).toBeTruthy()
    // boolean: a checkbox ticked by its default
    const fail = screen.getByLabelText('Fail on 4xx/5xx') as HTMLInputElement
    expect(fail.type).toBe('checkbox')
    expect(fail.checked).toBe(true)
    // object: a group of key/value rows
    expect(screen.getByRole('group', { name: 'Headers' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Add to headers' })).toBeTruthy()
    // list and any: JSON editors with help
    expect(screen.getByLabelText('Blocks').hasAttribute('data-template')).toBe(true)
    expect(screen.getByText('Sent as application/json JSON, or {{ }} for data.')).toBeTruthy()
  })

  it('writes typed values and drops emptied fields', () => {
    const values: Record<string, unknown>[] = []
    mount(<Harness onValue={(v) => values.push(v)} />)
    fireEvent.change(screen.getByLabelText('Method'), { target: { value: 'POST' } })
    fireEvent.change(screen.getByLabelText(/^URL\*/), { target: { value: 'https://x.test/{{ trigger.body.id }}' } })
    fireEvent.change(screen.getByLabelText('Timeout seconds'), { target: { value: '12.5' } })
    fireEvent.click(screen.getByLabelText('Fail on 4xx/5xx'))
    fireEvent.change(screen.getByLabelText('Blocks'), { target: { value: '[{"type": "section"}]' } })
    fireEvent.change(screen.getByLabelText('JSON body'), { target: { value: '{"sku": "{{ item.sku }}"}' } })
    expect(values.at(-1)).toEqual({
      method: 'POST',
      url: 'https://x.test/{{ trigger.body.id }}',
      timeout: 12.5,
      fail_on_status: false,
      blocks: [{ type: 'section' }],
      json: { sku: '{{ item.sku }}' },
    })
    // A number field also takes an expression; text that is not JSON stays text.
    fireEvent.change(screen.getByLabelText('Timeout seconds'), { target: { value: '{{ vars.timeout }}' } })
    fireEvent.change(screen.getByLabelText('JSON body'), { target: { value: '{{ trigger.body }}' } })
    expect(values.at(-1)).toMatchObject({ timeout: '{{ vars.timeout }}', json: '{{ trigger.body }}' })
    // Emptying a field removes the key.
    fireEvent.change(screen.getByLabelText(/^URL\*/), { target: { value: '' } })
    fireEvent.change(screen.getByLabelText('Timeout seconds'), { target: { value: '' } })
    expect(values.at(-1)).not.toHaveProperty('url')
    expect(values.at(-1)).not.toHaveProperty('timeout')
  })

  it('edits object fields as key/value rows', () => {
    const values: Record<string, unknown>[] = []
    mount(<Harness fields={[FIELDS[5]]} initial={{ headers: { 'X-One': '1' } }} onValue={(v) => values.push(v)} />)
    expect((screen.getByLabelText('Key 1') as HTMLInputElement).value).toBe('X-One')
    fireEvent.click(screen.getByRole('button', { name: 'Add to headers' }))
    fireEvent.change(screen.getByLabelText('Key 2'), { target: { value: 'X-Order' } })
    fireEvent.change(screen.getByLabelText('Value of X-Order'), { target: { value: '{{ trigger.body.id }}' } })
    expect(values.at(-1)).toEqual({ headers: { 'X-One': '1', 'X-Order': '{{ trigger.body.id }}' } })
    fireEvent.click(screen.getByRole('button', { name: 'Remove X-One' }))
    fireEvent.click(screen.getByRole('button', { name: 'Remove X-Order' }))
    expect(values.at(-1)).toEqual({})
  })

  it('shows server errors on the field they belong to', () => {
    mount(<Harness onValue={() => {}} errors={{ url: ['is required'] }} />)
    const url = screen.getByLabelText(/^URL\*/)
    expect(url.getAttribute('aria-invalid')).toBe('true')
    expect(url.getAttribute('aria-labelledby')).toBe('f-url-label')
    const err = screen.getByRole('alert')
    expect(err.textContent).toBe('is required')
    expect(err.id).toBe('f-url-error')
  })

  it('is read-only for viewers', () => {
    mount(<Harness onValue={() => {}} />, { role: 'viewer' })
    expect((screen.getByLabelText('Method') as HTMLSelectElement).disabled).toBe(true)
    expect((screen.getByLabelText('Timeout seconds') as HTMLInputElement).readOnly).toBe(true)
    expect((screen.getByLabelText(/^URL\*/) as HTMLTextAreaElement).readOnly).toBe(true)
    expect(screen.queryByRole('button', { name: 'Add to headers' })).toBeNull()
  })
})

const SLACK: ConnectorSpec = {
  id: 'slack',
  name: 'Slack',
  auth: {
    kind: 'custom',
    fields: [
      { key: 'bot_token', label: 'Bot token', type: 'string', secret: true, help: 'xoxb-…' },
      { key: 'base_url', label: 'API base URL', type: 'string', default: 'https://slack.com/api' },
    ],
  },
  actions: [],
}

describe('connection picker', () => {
  it('lists the connections of the connector and creates one inline from the auth spec', async () => {
    const connections = [
      { id: 'c1', name: 'ops-slack', connector: 'slack', fields: {}, created_at: '', updated_at: '' },
      { id: 'c2', name: 'crm', connector: 'hubspot', fields: {}, created_at: '', updated_at: '' },
    ]
    const { api, calls } = fakeApi(async (url, init) => {
      if (url === '/api/v1/connections' && init?.method === 'POST') {
        const body = JSON.parse(String(init.body))
        connections.push({ id: 'c3', ...body, created_at: '', updated_at: '' })
        return new Response(JSON.stringify({ id: 'c3', ...body }), { status: 201 })
      }
      return new Response(JSON.stringify({ items: connections, next_cursor: '' }), { status: 200 })
    })
    const chosen: Array<string | undefined> = []
    function Picker() {
      const [value, setValue] = useState<string | undefined>()
      return (
        <ConnectionPicker
          spec={SLACK}
          value={value}
          idPrefix="s"
          onChange={(v) => {
            chosen.push(v)
            setValue(v)
          }}
        />
      )
    }
    mount(<Picker />, { api })
    const select = (await screen.findByLabelText(/^Connection\*/)) as HTMLSelectElement
    await waitFor(() => expect([...select.options].map((o) => o.value)).toEqual(['', 'ops-slack']))

    fireEvent.click(screen.getByRole('button', { name: 'New connection' }))
    const form = screen.getByRole('form', { name: 'New Slack connection' })
    expect((screen.getByLabelText(/^Connection name/) as HTMLInputElement).value).toBe('slack')
    const token = screen.getByLabelText('Bot token') as HTMLInputElement
    expect(token.type).toBe('password')
    expect((screen.getByLabelText('API base URL') as HTMLInputElement).placeholder).toBe('https://slack.com/api')
    fireEvent.change(screen.getByLabelText(/^Connection name/), { target: { value: 'team-slack' } })
    fireEvent.change(token, { target: { value: 'xoxb-1' } })
    fireEvent.submit(form)
    await waitFor(() => expect(chosen).toEqual(['team-slack']))
    const post = calls.find((c) => c.body && (c.body as { name?: string }).name === 'team-slack')
    expect(post?.body).toEqual({ name: 'team-slack', connector: 'slack', fields: { bot_token: 'xoxb-1' } })
    await waitFor(() => expect((screen.getByLabelText(/^Connection\*/) as HTMLSelectElement).value).toBe('team-slack'))
  })

  it('suggests a free connection name', () => {
    expect(suggestConnectionName('slack', [])).toBe('slack')
    expect(suggestConnectionName('slack', ['slack', 'slack-2'])).toBe('slack-3')
  })
})

describe('connection keys', () => {
  it('derives a free key from the name people type', async () => {
    const { uniqueKey } = await import('./fields.tsx')
    const { slugify } = await import('../format.ts')
    expect(uniqueKey(slugify('Team Slack'), [])).toBe('team-slack')
    expect(uniqueKey(slugify('Team Slack'), ['team-slack', 'team-slack-2'])).toBe('team-slack-3')
  })
})
