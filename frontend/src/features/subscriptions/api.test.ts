import { describe, expect, it } from 'vitest'
import { createSubscriptionsClient, parseHeaderLines } from './api.ts'

describe('parseHeaderLines', () => {
  it('reads Name: value lines and skips blank ones', () => {
    expect(parseHeaderLines('X-Team: ops\n\nAuthorization: Bearer a:b')).toEqual({
      headers: { 'X-Team': 'ops', Authorization: 'Bearer a:b' },
    })
  })
  it('names the first bad line', () => {
    expect(parseHeaderLines('X-Team: ops\nnonsense').error).toBe('Line 2: write it as "Name: value".')
  })
})

describe('subscriptions client', () => {
  it('sends the CSRF token on changes and throws the problem on errors', async () => {
    const calls: { url: string; init?: RequestInit }[] = []
    const client = createSubscriptionsClient(
      async (url, init) => {
        calls.push({ url, init })
        return new Response(JSON.stringify({ title: 'Unprocessable Entity', status: 422, errors: [{ path: 'url', message: 'is required' }] }), {
          status: 422,
        })
      },
      () => 'tok',
    )
    await expect(client.create({ events: ['run.failed'] })).rejects.toMatchObject({ status: 422 })
    expect(calls[0].url).toBe('/api/v1/subscriptions')
    expect((calls[0].init?.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok')
  })
})
