// Errors of runs, steps and deliveries in plain words (pure; errors.test.ts).

export interface ErrorWords {
  /** One sentence a person can act on. */
  summary: string
  /** What to do about it, when we know. */
  hint?: string
}

/**
 * Explains a recorded error. The recorded message itself is always shown too, whole: this
 * adds a first sentence, it never replaces or shortens the original.
 */
export function explainError(message: string, status = 0): ErrorWords | null {
  if (!message && !status) return null
  const m = message.toLowerCase()
  if (m.includes('destination address is not allowed')) {
    return {
      summary: 'Switchboard did not call this address because it is private (a local or internal network).',
      hint: 'An operator can allow it by adding the address or its network to SWITCHBOARD_OUTBOUND_ALLOW (for example 10.0.0.0/8 or hooks.internal) and restarting.',
    }
  }
  if (status >= 500 || /\b(status|http|answered) 5\d\d\b/.test(m)) {
    return { summary: `The service answered with a server error${status ? ` (HTTP ${status})` : ''}; a retry or a replay may work once it is fixed.` }
  }
  if (status === 401 || status === 403) {
    return { summary: `The service refused the credentials (HTTP ${status}).`, hint: 'Check the connection used by this step and test it.' }
  }
  if (status === 429) return { summary: 'The service is rate limiting Switchboard (HTTP 429); later attempts may succeed.' }
  if (status >= 400) return { summary: `The service rejected the request (HTTP ${status}); its response below says why.` }
  if (m.includes('timeout') || m.includes('deadline exceeded')) {
    return { summary: 'The service did not answer in time.' }
  }
  if (m.includes('connection refused') || m.includes('no such host')) {
    return { summary: 'Switchboard could not reach the service (nothing answered at that address).' }
  }
  if (m.includes('connection') && (m.includes('not found') || m.includes('does not exist'))) {
    return { summary: 'The step names a connection that does not exist.', hint: 'Choose a connection for the step in the editor.' }
  }
  return null
}
