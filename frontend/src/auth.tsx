// Sign-in: first-admin set-up, login, the signed-in user's menu, and "back to login on 401".

import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { createContext, useContext, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, type ApiClient, type Me, type Role } from './api.ts'
import { useApi } from './apiContext.ts'
import { ErrorNotice, Loading } from './components.tsx'

export const MIN_PASSWORD = 10

export type AuthState =
  | { kind: 'setup' }
  | { kind: 'signed-out'; expired?: boolean }
  | { kind: 'signed-in'; me: Me }

export const authKey = ['auth'] as const

function setAuth(queryClient: QueryClient, state: AuthState) {
  queryClient.setQueryData<AuthState>(authKey, () => state)
}

/** Where the app stands: the instance needs its first admin, nobody is signed in, or who is. */
export async function loadAuth(api: ApiClient, signal?: AbortSignal): Promise<AuthState> {
  const status = await api.authStatus(signal)
  if (status.needs_setup) return { kind: 'setup' }
  try {
    return { kind: 'signed-in', me: await api.me(signal) }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return { kind: 'signed-out' }
    throw err
  }
}

export function canEdit(role: Role | string | undefined): boolean {
  return role === 'admin' || role === 'editor'
}

export interface Session {
  me: Me
  canEdit: boolean
  signOut: () => Promise<void>
}

const SessionContext = createContext<Session | null>(null)

/** The signed-in session; only inside <AuthGate>. */
export function useSession(): Session {
  const s = useContext(SessionContext)
  if (!s) throw new Error('useSession outside AuthGate')
  return s
}

/** True when the current user may change things (editor or admin); false outside a session. */
export function useCanEdit(): boolean {
  return useContext(SessionContext)?.canEdit ?? false
}

/** Provides a fixed session (tests and stories). */
export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
}

function signedIn(queryClient: QueryClient, me: Me) {
  // Data fetched as somebody else (or as nobody) must not show.
  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== authKey[0] })
  setAuth(queryClient, { kind: 'signed-in', me })
}

/** Shows set-up or login until someone is signed in, then the children. */
export function AuthGate({ children }: { children: ReactNode }) {
  const api = useApi()
  const queryClient = useQueryClient()
  const auth = useQuery({
    queryKey: authKey,
    queryFn: ({ signal }) => loadAuth(api, signal),
    staleTime: Infinity,
    retry: 1,
  })

  // Any 401 (session expired, signed out elsewhere) returns to the login page.
  useEffect(
    () =>
      api.onUnauthorized(() => {
        const current = queryClient.getQueryData<AuthState>(authKey)
        if (current?.kind === 'signed-in') {
          setAuth(queryClient, { kind: 'signed-out', expired: true })
        }
      }),
    [api, queryClient],
  )

  const state = auth.data
  const session: Session | null =
    state?.kind === 'signed-in'
      ? {
          me: state.me,
          canEdit: canEdit(state.me.role),
          signOut: async () => {
            try {
              await api.logout()
            } finally {
              queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== authKey[0] })
              setAuth(queryClient, { kind: 'signed-out' })
            }
          },
        }
      : null

  if (auth.isPending) {
    return (
      <AuthFrame>
        <Loading what="Switchboard" />
      </AuthFrame>
    )
  }
  if (!state) {
    return (
      <AuthFrame>
        <ErrorNotice error={auth.error} what="Switchboard" onRetry={() => void auth.refetch()} />
      </AuthFrame>
    )
  }
  if (state.kind === 'setup') {
    return (
      <AuthFrame>
        <SetupForm onDone={(me) => signedIn(queryClient, me)} />
      </AuthFrame>
    )
  }
  if (state.kind === 'signed-out') {
    return (
      <AuthFrame>
        <LoginForm expired={state.expired} onDone={(me) => signedIn(queryClient, me)} />
      </AuthFrame>
    )
  }
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>
}

/** The frame of the pages shown before signing in. */
export function AuthFrame({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="auth-page">
      <div className="auth-card">
        <p className="auth-card__brand">
          <Logo /> Switchboard
        </p>
        {children}
      </div>
    </main>
  )
}

export function Logo() {
  return (
    <svg className="brand__logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="currentColor" />
      <circle cx="9" cy="10" r="3" fill="#fff" />
      <circle cx="9" cy="22" r="3" fill="#fff" />
      <circle cx="23" cy="16" r="3" fill="#fff" />
      <path d="M11.5 11.5 20.5 15M11.5 20.5 20.5 17" stroke="#fff" strokeWidth="2" strokeLinecap="round" />
    </svg>
  )
}

function authMessage(err: unknown, action: 'login' | 'setup'): string {
  if (err instanceof ApiError) {
    if (action === 'login' && err.status === 401) return 'Wrong e-mail or password.'
    if (err.status === 429) return `Too many attempts. ${err.problem.detail ?? 'Wait a while and try again.'}`
    if (err.status === 409) return 'This instance already has an admin. Reload the page and sign in.'
    if (err.fieldErrors.length) return err.fieldErrors.map((e) => `${e.path}: ${e.message}`).join('; ')
    return err.problem.detail || err.message
  }
  return err instanceof Error ? err.message : String(err)
}

function useSubmit(run: () => Promise<void>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault()
    if (busy) return
    setBusy(true)
    setError(null)
    try {
      await run()
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }
  return { busy, error, onSubmit }
}

/** The sign-in and set-up forms' error notice (focused by the caller). */
function AuthError({ error, errorRef, action }: { error: unknown; errorRef: React.Ref<HTMLDivElement>; action: 'login' | 'setup' }) {
  if (!error) return null
  return (
    <div className="notice notice--error" role="alert" tabIndex={-1} ref={errorRef}>
      {authMessage(error, action)}
    </div>
  )
}

/** The e-mail field both forms start with. */
function EmailField({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={`${id}-email`}>E-mail</label>
      <input
        id={`${id}-email`}
        type="email"
        autoComplete="username"
        required
        autoFocus
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  )
}

/** A new password with the length rule under it; `tooShort` turns the rule into the field's error. */
export function NewPasswordField({
  id,
  value,
  onChange,
  tooShort = false,
  autoFocus,
}: {
  id: string
  value: string
  onChange: (v: string) => void
  tooShort?: boolean
  autoFocus?: boolean
}) {
  return (
    <div className="field">
      <label htmlFor={id}>Password</label>
      <input
        id={id}
        type="password"
        autoComplete="new-password"
        required
        minLength={MIN_PASSWORD}
        autoFocus={autoFocus}
        aria-describedby={`${id}-help`}
        aria-invalid={tooShort || undefined}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-help`} className={tooShort ? 'field__error' : 'field__help'}>
        At least {MIN_PASSWORD} characters.
      </p>
    </div>
  )
}

export function LoginForm({ onDone, expired }: { onDone: (me: Me) => void; expired?: boolean }) {
  const api = useApi()
  const id = useId()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const errorRef = useRef<HTMLDivElement>(null)
  const { busy, error, onSubmit } = useSubmit(async () => {
    await api.login({ email: email.trim(), password })
    onDone(await api.me())
  })
  useEffect(() => {
    if (error) errorRef.current?.focus()
  }, [error])
  return (
    <form className="auth-form" onSubmit={onSubmit} aria-labelledby={`${id}-title`} noValidate>
      <h1 id={`${id}-title`}>Sign in</h1>
      {expired ? (
        <p className="notice" role="status">
          Your session ended. Sign in again to continue.
        </p>
      ) : null}
      <AuthError error={error} errorRef={errorRef} action="login" />
      <EmailField id={id} value={email} onChange={setEmail} />
      <div className="field">
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <button type="submit" className="btn btn--primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  )
}

export function SetupForm({ onDone }: { onDone: (me: Me) => void }) {
  const api = useApi()
  const id = useId()
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [tooShort, setTooShort] = useState(false)
  const errorRef = useRef<HTMLDivElement>(null)
  const { busy, error, onSubmit } = useSubmit(async () => {
    await api.setup({ email: email.trim(), password, name: name.trim() || undefined })
    onDone(await api.me())
  })
  useEffect(() => {
    if (error) errorRef.current?.focus()
  }, [error])
  const submit = (e: FormEvent) => {
    if (password.length < MIN_PASSWORD) {
      e.preventDefault()
      setTooShort(true)
      return
    }
    setTooShort(false)
    void onSubmit(e)
  }
  return (
    <form className="auth-form" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h1 id={`${id}-title`}>Create the first admin</h1>
      <p className="muted">This Switchboard has no users yet. The account you create here can add others.</p>
      <AuthError error={error} errorRef={errorRef} action="setup" />
      <EmailField id={id} value={email} onChange={setEmail} />
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} type="text" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <NewPasswordField id={`${id}-password`} value={password} onChange={setPassword} tooShort={tooShort} />
      <button type="submit" className="btn btn--primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create admin and sign in'}
      </button>
    </form>
  )
}

/** Header menu: who is signed in, their role, and "Sign out". */
export function UserMenu() {
  const { me, signOut } = useSession()
  const [open, setOpen] = useState(false)
  const ref = useRef<HTMLDivElement>(null)
  const buttonRef = useRef<HTMLButtonElement>(null)
  const id = useId()
  const email = me.user?.email ?? me.name

  useEffect(() => {
    if (!open) return
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false)
    }
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false)
        buttonRef.current?.focus()
      }
    }
    document.addEventListener('mousedown', onDown)
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('mousedown', onDown)
      document.removeEventListener('keydown', onKey)
    }
  }, [open])

  return (
    <div className="user-menu" ref={ref}>
      <button
        type="button"
        ref={buttonRef}
        className="btn user-menu__button"
        aria-expanded={open}
        aria-controls={`${id}-menu`}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="user-menu__avatar" aria-hidden="true">
          {(me.user?.name || email || '?').slice(0, 1).toUpperCase()}
        </span>
        <span className="user-menu__email">{email}</span>
        <span className="visually-hidden"> (account menu)</span>
      </button>
      {open ? (
        <div className="user-menu__panel" id={`${id}-menu`}>
          <p className="user-menu__who">
            {me.user?.name ? <strong>{me.user.name}</strong> : null}
            <span>{email}</span>
            <span>
              Role: <span className="badge badge--neutral" data-role={me.role}>{me.role}</span>
            </span>
          </p>
          <button type="button" className="btn" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  )
}
