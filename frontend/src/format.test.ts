import { describe, expect, it } from 'vitest'
import {
  elapsedMs,
  formatDuration,
  formatRelative,
  httpStatusTone,
  isFinalRunState,
  parseTime,
  prettyBody,
  prettyJson,
  shortId,
  stateTone,
} from './format.ts'
import { RUN_STATES } from './api.ts'

describe('parseTime', () => {
  it('parses RFC 3339 and rejects empty, invalid and Go zero times', () => {
    expect(parseTime('2026-11-26T10:00:00Z')?.toISOString()).toBe('2026-11-26T10:00:00.000Z')
    expect(parseTime('2026-11-26T10:00:00.123456789+01:00')?.toISOString()).toBe('2026-11-26T09:00:00.123Z')
    expect(parseTime(null)).toBeNull()
    expect(parseTime('')).toBeNull()
    expect(parseTime('not a date')).toBeNull()
    expect(parseTime('0001-01-01T00:00:00Z')).toBeNull()
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [3, '3 ms'],
    [999.4, '999 ms'],
    [1000, '1 s'],
    [1250, '1.25 s'],
    [12_340, '12.3 s'],
    [60_000, '1 min'],
    [125_000, '2 min 5 s'],
    [3_600_000, '1 h'],
    [3_780_000, '1 h 3 min'],
  ])('%d ms -> %s', (ms, want) => {
    expect(formatDuration(ms)).toBe(want)
  })

  it('handles unknown and negative values', () => {
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(Number.NaN)).toBe('—')
    expect(formatDuration(-5)).toBe('0 ms')
  })
})

describe('elapsedMs', () => {
  const start = '2026-11-26T10:00:00Z'
  it('measures finished runs', () => {
    expect(elapsedMs(start, '2026-11-26T10:00:01.5Z')).toBe(1500)
  })
  it('measures running runs up to now', () => {
    expect(elapsedMs(start, null, Date.parse('2026-11-26T10:00:07Z'))).toBe(7000)
  })
  it('is null when not started', () => {
    expect(elapsedMs(null, null)).toBeNull()
  })
})

describe('formatRelative', () => {
  const now = Date.parse('2026-11-26T12:00:00Z')
  it.each([
    ['2026-11-26T12:00:00Z', 'just now'],
    ['2026-11-26T12:00:20Z', 'just now'], // small clock skew
    ['2026-11-26T11:59:18Z', '42 s ago'],
    ['2026-11-26T11:55:00Z', '5 min ago'],
    ['2026-11-26T09:00:00Z', '3 h ago'],
    ['2026-11-24T12:00:00Z', '2 d ago'],
  ])('%s -> %s', (value, want) => {
    expect(formatRelative(value, now)).toBe(want)
  })
  it('falls back to the date for old times and a dash for none', () => {
    expect(formatRelative('2025-01-02T12:00:00Z', now)).toMatch(/^2025-01-0[12]$/)
    expect(formatRelative(null, now)).toBe('—')
  })
})

describe('states', () => {
  it('knows which run states are final', () => {
    const final = RUN_STATES.filter(isFinalRunState)
    expect(final).toEqual(['succeeded', 'failed', 'filtered', 'canceled'])
  })
  it('gives every run state a tone', () => {
    expect(Object.fromEntries(RUN_STATES.map((s) => [s, stateTone(s)]))).toEqual({
      queued: 'neutral',
      running: 'info',
      waiting: 'warning',
      succeeded: 'success',
      failed: 'danger',
      filtered: 'muted',
      canceled: 'muted',
    })
  })
  it('colours HTTP statuses', () => {
    expect(httpStatusTone(200)).toBe('success')
    expect(httpStatusTone(302)).toBe('info')
    expect(httpStatusTone(429)).toBe('warning')
    expect(httpStatusTone(503)).toBe('danger')
    expect(httpStatusTone(0)).toBe('danger')
  })
})

describe('JSON helpers', () => {
  it('pretty prints values', () => {
    expect(prettyJson({ text: 'Order #1 from Ada' })).toBe('{\n  "text": "Order #1 from Ada"\n}')
    expect(prettyJson(null)).toBe('null')
    expect(prettyJson(undefined)).toBe('—')
  })
  it('pretty prints JSON bodies and leaves other text alone', () => {
    expect(prettyBody('{"ok":true}')).toBe('{\n  "ok": true\n}')
    expect(prettyBody('ok')).toBe('ok')
    expect(prettyBody('{broken')).toBe('{broken')
    expect(prettyBody('')).toBe('')
  })
  it('shortens ids', () => {
    expect(shortId('01a21a24-778d-758c-b3d6-e01a49159769')).toBe('49159769')
    expect(shortId('abc')).toBe('abc')
  })
})
