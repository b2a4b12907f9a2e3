// A recorded error for lists: first what it means in words (when we know), then the whole
// message on demand. Never cut: a shortened message ("retryable: calli…") tells nobody anything.

import { explainError } from './errors.ts'

export function RunError({ message, status = 0 }: { message: string; status?: number }) {
  const words = explainError(message, status)
  if (!words) return <span className="error-text">{message}</span>
  return (
    <span className="run-error">
      <span className="error-words">{words.summary}</span>
      <details className="error-details">
        <summary>Details</summary>
        <span className="error-text">{message}</span>
        {words.hint ? <span className="field__help">{words.hint}</span> : null}
      </details>
    </span>
  )
}
