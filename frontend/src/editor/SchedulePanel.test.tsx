// @vitest-environment jsdom
import { QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { createApiClient, type FetchLike, type Me, type TriggerDoc } from '../api.ts'
import { ApiContext } from '../apiContext.ts'
import { SessionProvider } from '../auth.tsx'
import { createQueryClient } from '../queries.ts'
import { TriggerPanel } from './TriggerPanel.tsx'

afterEach(cleanup)

/** Answers /schedules/describe the way the server does for the specs the test types. */
function fakeServer() {
  const asked: string[] = []
  const json = (status: number, body: unknown, type = 'application/json') =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
  const fetch: FetchLike = async (url) => {
    const u = new URL(url, 'http://sb.test')
    if (u.pathname !== '/api/v1/schedules/describe') return json(404, { title: 'Not Found', status: 404 })
    const cron = u.searchParams.get('cron') ?? ''
    asked.push(cron)
    if (cron === '61 * * * *') {
      return json(422, { type: 'https://switchboard.dev/problems/validation', title: 'Unprocessable Entity', status: 422,
        detail: 'cron: minute field "61": end of range (61) above maximum (59): 61',
        errors: [{ path: 'cron', message: 'cron: minute field "61": end of range (61) above maximum (59): 61' }] },
        'application/problem+json')
    }
    const words: Record<string, string> = { '*/15 * * * *': 'Every 15 minutes', '0 9 * * 1-5': 'Every weekday at 09:00' }
    return json(200, { cron, timezone: u.searchParams.get('timezone') || 'UTC', description: words[cron] ?? cron,
      next: ['2026-12-04T09:00:00Z', '2026-12-07T09:00:00Z', '2026-12-08T09:00:00Z', '2026-12-09T09:00:00Z', '2026-12-10T09:00:00Z'] })
  }
  return { asked, api: createApiClient({ fetch, readCsrfCookie: () => '' }) }
}

function Panel() {
  const [trigger, setTrigger] = useState<TriggerDoc>({ type: 'schedule', schedule: { cron: '0 9 * * 1-5', timezone: 'UTC' } })
  return (
    <TriggerPanel trigger={trigger} workflow={null} dirty errors={[]} onChange={(t) => setTrigger(t)}
      sample={undefined} listening={false} onListen={() => {}} />
  )
}

function mount(api: ReturnType<typeof fakeServer>['api']) {
  const session = { me: { kind: 'user', id: 'u1', name: 'Ada', role: 'editor' } as Me, canEdit: true, signOut: async () => {} }
  return render(
    <ApiContext.Provider value={api}>
      <QueryClientProvider client={createQueryClient()}>
        <SessionProvider session={session}>
          <Panel />
        </SessionProvider>
      </QueryClientProvider>
    </ApiContext.Provider>,
  )
}

describe('the schedule trigger in words', () => {
  it('asks the server once typing pauses, and shows its 4xx message for a bad spec', async () => {
    const { asked, api } = fakeServer()
    mount(api)
    expect((await screen.findByTestId('cron-words')).textContent).toContain('Every weekday at 09:00')
    const input = screen.getByLabelText(/^When \(cron\)/)
    for (const partial of ['*', '*/', '*/1', '*/15 * * * *']) fireEvent.change(input, { target: { value: partial } })
    await screen.findByText('Every 15 minutes')
    // Only the spec typing paused on was sent, not each keystroke.
    expect(asked).toEqual(['0 9 * * 1-5', '*/15 * * * *'])

    fireEvent.change(input, { target: { value: '61 * * * *' } })
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('minute field "61": end of range (61) above maximum (59)')
  })
})
