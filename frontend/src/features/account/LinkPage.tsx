// The page a one-time link opens (/account/link#sbl_…): an invited person chooses their
// password, or someone whose password an admin reset chooses a new one, and is signed in.
// The secret is in the fragment, so it never reaches a server log.

import { useQuery } from '@tanstack/react-query'
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import { ApiError } from '../../api.ts'
import { useApi } from '../../apiContext.ts'
import { AuthFrame, MIN_PASSWORD, NewPasswordField } from '../../auth.tsx'
import { Loading } from '../../components.tsx'
import { formatDateTime } from '../../format.ts'

export const LINK_PATH = '/account/link'

export function LinkPage({ onDone = () => window.location.replace('/') }: { onDone?: () => void }) {
  const api = useApi()
  const id = useId()
  const token = typeof window === 'undefined' ? '' : window.location.hash.replace(/^#/, '')
  const info = useQuery({
    queryKey: ['link', token],
    queryFn: ({ signal }) => api.op('GET', '/api/v1/auth/links/{token}', { path: { token }, signal }),
    enabled: token !== '',
    retry: false,
  })
  const [password, setPassword] = useState('')
  const [again, setAgain] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const errRef = useRef<HTMLDivElement>(null)
  useEffect(() => {
    document.title = 'Choose your password · Switchboard'
  }, [])
  useEffect(() => {
    if (error) errRef.current?.focus()
  }, [error])

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (password.length < MIN_PASSWORD) return setError(`The password must be at least ${MIN_PASSWORD} characters.`)
    if (password !== again) return setError('The two passwords differ.')
    setBusy(true)
    setError(null)
    try {
      await api.op('POST', '/api/v1/auth/links/{token}', { path: { token }, body: { password } })
      onDone()
    } catch (err) {
      setBusy(false)
      setError(err instanceof ApiError ? (err.problem.detail ?? err.message) : String(err))
    }
  }

  const invite = info.data?.kind === 'invite'
  return (
    <AuthFrame>
      {!token ? (
        <p className="notice notice--error" role="alert">
          This link is incomplete: open the whole link you were sent.
        </p>
      ) : info.isPending ? (
        <Loading what="the link" />
      ) : info.error ? (
        <div className="notice notice--error" role="alert">
          <p>{info.error instanceof ApiError ? (info.error.problem.detail ?? info.error.message) : String(info.error)}</p>
          <p>
            <a href="/">Go to sign-in</a>
          </p>
        </div>
      ) : (
        <form className="auth-form" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`} noValidate>
          <h1 id={`${id}-title`}>{invite ? 'Welcome to Switchboard' : 'Choose a new password'}</h1>
          <p className="muted">
            {invite ? 'You were invited as ' : 'For '}
            <strong>{info.data.email}</strong>. This link works once, until {formatDateTime(info.data.expires_at)}.
          </p>
          {error ? (
            <div className="notice notice--error" role="alert" tabIndex={-1} ref={errRef}>
              {error}
            </div>
          ) : null}
          <input type="email" autoComplete="username" value={info.data.email} readOnly hidden />
          <NewPasswordField id={`${id}-pw`} value={password} onChange={setPassword} autoFocus />
          <div className="field">
            <label htmlFor={`${id}-again`}>The same password again</label>
            <input id={`${id}-again`} type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />
          </div>
          <button type="submit" className="btn btn--primary" disabled={busy}>
            {busy ? 'Saving…' : invite ? 'Set password and sign in' : 'Save password and sign in'}
          </button>
        </form>
      )}
    </AuthFrame>
  )
}
