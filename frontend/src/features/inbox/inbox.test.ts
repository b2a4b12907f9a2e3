import { describe, expect, it } from 'vitest'
import { toCurl } from './InboxPage.tsx'

describe('copy as curl', () => {
  it('rebuilds the request against the webhook URL, quoting for the shell', () => {
    const curl = toCurl(
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Signature': '[redacted]', 'Content-Length': '12', 'X-Note': "it's" },
        query: { src: 'shop' },
        body: '{"order":7}',
      },
      'http://127.0.0.1:8080/hooks/abc',
    )
    expect(curl).toBe(
      `curl -X POST 'http://127.0.0.1:8080/hooks/abc?src=shop' -H 'Content-Type: application/json' -H 'X-Signature: [redacted]' -H 'X-Note: it'\\''s' --data-binary '{"order":7}'`,
    )
  })
})
