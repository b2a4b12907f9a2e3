// @vitest-environment jsdom
import { QueryClientProvider } from '@tanstack/react-query'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { createApiClient, type FetchLike } from './api.ts'
import { ApiContext } from './apiContext.ts'
import { AuthGate, UserMenu, useCanEdit } from './auth.tsx'
import { createQueryClient } from './queries.ts'

afterEach(cleanup)

interface Server {
  needsSetup: boolean
  signedIn: boolean
  role: string
  calls: Array<{ method: string; path: string; body?: unknown; headers: Record<string, string> }>
}

/** A fake Switchboard answering the auth routes and one protected route. */
function fakeServer(state: Partial<Server> = {}) {
  const server: Server = { needsSetup: false, signedIn: false, role: 'admin', calls: [], ...state }
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
  const unauthorized = () => json(401, { title: 'Unauthorized', status: 401, detail: 'sign in' })
  const fetch: FetchLike = async (url, init) => {
    const method = init?.method ?? 'GET'
    const body = init?.body ? JSON.parse(String(init.body)) : undefined
    server.calls.push({ method, path: url, body, headers: (init?.headers ?? {}) as Record<string, string> })
    const me = { kind: 'user', id: 'u1', name: 'ada@example.com', role: server.role, csrf_token: 'tok',
      user: { id: 'u1', email: 'ada@example.com', name: 'Ada', role: server.role } }
    switch (`${method} ${url}`) {
      case 'GET /api/v1/auth/status':
        return json(200, { needs_setup: server.needsSetup })
      case 'GET /api/v1/auth/me':
        return server.signedIn ? json(200, me) : unauthorized()
      case 'POST /api/v1/auth/setup':
        server.needsSetup = false
        server.signedIn = true
        return json(201, { user: me.user, csrf_token: 'tok' })
      case 'POST /api/v1/auth/login':
        if (body.password !== 'correct horse') return unauthorized()
        server.signedIn = true
        return json(200, { user: me.user, csrf_token: 'tok' })
      case 'POST /api/v1/auth/logout':
        server.signedIn = false
        return new Response(null, { status: 204 })
      case 'GET /api/v1/workflows':
        return server.signedIn ? json(200, { items: [], next_cursor: '' }) : unauthorized()
    }
    return json(404, { title: 'Not Found', status: 404 })
  }
  const api = createApiClient({ fetch, readCsrfCookie: () => '' })
  return { server, api }
}

function Protected() {
  const editable = useCanEdit()
  return (
    <div>
      <p>The app</p>
      {editable ? <button type="button">Edit</button> : null}
      <UserMenu />
    </div>
  )
}

function mount(api: ReturnType<typeof fakeServer>['api']) {
  return render(
    <ApiContext.Provider value={api}>
      <QueryClientProvider client={createQueryClient()}>
        <AuthGate>
          <Protected />
        </AuthGate>
      </QueryClientProvider>
    </ApiContext.Provider>,
  )
}

describe('sign-in flow', () => {
  it('asks for the first admin when the instance needs set-up, then shows the app', async () => {
    const { server, api } = fakeServer({ needsSetup: true })
    mount(api)
    await screen.findByRole('heading', { name: 'Create the first admin' })
    fireEvent.change(screen.getByLabelText('E-mail'), { target: { value: 'ada@example.com' } })
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Ada' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'short' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create admin and sign in' }))
    expect(screen.getByLabelText('Password').getAttribute('aria-invalid')).toBe('true')
    expect(server.calls.some((c) => c.path === '/api/v1/auth/setup')).toBe(false)

    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create admin and sign in' }))
    await screen.findByText('The app')
    const setup = server.calls.find((c) => c.path === '/api/v1/auth/setup')
    expect(setup?.body).toEqual({ email: 'ada@example.com', password: 'correct horse', name: 'Ada' })
  })

  it('shows the login page when /auth/me is 401, rejects a wrong password, then signs in', async () => {
    const { api } = fakeServer()
    mount(api)
    await screen.findByRole('heading', { name: 'Sign in' })
    fireEvent.change(screen.getByLabelText('E-mail'), { target: { value: 'ada@example.com' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'wrong password' } })
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    expect((await screen.findByRole('alert')).textContent).toContain('Wrong e-mail or password')

    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } })
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }))
    await screen.findByText('The app')
    expect(screen.getByRole('button', { name: 'Edit' })).toBeTruthy()
  })

  it('returns to the login page on a 401 anywhere', async () => {
    const { server, api } = fakeServer({ signedIn: true })
    mount(api)
    await screen.findByText('The app')
    server.signedIn = false // the session expired on the server
    await act(async () => {
      await api.listWorkflows().catch(() => {})
    })
    await screen.findByRole('heading', { name: 'Sign in' })
    expect(screen.getByText(/Your session ended/)).toBeTruthy()
    expect(screen.queryByText('The app')).toBeNull()
  })

  it('shows e-mail and role in the user menu, and signs out with the CSRF header', async () => {
    const { server, api } = fakeServer({ signedIn: true, role: 'viewer' })
    mount(api)
    await screen.findByText('The app')
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull() // viewers see no edit buttons
    fireEvent.click(screen.getByRole('button', { name: /ada@example.com/ }))
    expect(document.querySelector('[data-role="viewer"]')?.textContent).toBe('viewer')
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }))
    await screen.findByRole('heading', { name: 'Sign in' })
    const logout = server.calls.find((c) => c.path === '/api/v1/auth/logout')
    expect(logout?.headers['X-CSRF-Token']).toBe('tok')
  })
})

