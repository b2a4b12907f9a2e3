// Pure formatting helpers (unit-tested in format.test.ts).

import type { RunState } from './api.ts'

/** Parses an RFC 3339 timestamp; null for empty, invalid or Go's zero time. */
export function parseTime(value: string | null | undefined): Date | null {
  if (!value) return null
  const d = new Date(value)
  const t = d.getTime()
  if (Number.isNaN(t) || d.getUTCFullYear() <= 1) return null
  return d
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** Local date and time as `YYYY-MM-DD HH:MM:SS`, or an em dash when unknown. */
export function formatDateTime(value: string | null | undefined): string {
  const d = parseTime(value)
  if (!d) return '—'
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago", then the date. */
export function formatRelative(value: string | null | undefined, now: number = Date.now()): string {
  const d = parseTime(value)
  if (!d) return '—'
  const diff = Math.round((now - d.getTime()) / 1000)
  if (diff < 0) {
    // Clock skew between browser and server: treat small negatives as "just now".
    return diff > -60 ? 'just now' : formatDateTime(value)
  }
  if (diff < 5) return 'just now'
  if (diff < 60) return `${diff} s ago`
  const min = Math.floor(diff / 60)
  if (min < 60) return `${min} min ago`
  const h = Math.floor(min / 60)
  if (h < 24) return `${h} h ago`
  const days = Math.floor(h / 24)
  if (days < 30) return `${days} d ago`
  return formatDateTime(value).slice(0, 10)
}

/** Human duration: "0 ms", "850 ms", "1.25 s", "12.3 s", "2 min 5 s", "1 h 3 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  if (ms < 0) ms = 0
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 10) return `${trimZeros(s.toFixed(2))} s`
  if (s < 60) return `${trimZeros(s.toFixed(1))} s`
  const totalS = Math.floor(s)
  const min = Math.floor(totalS / 60)
  if (min < 60) {
    const rest = totalS % 60
    return rest ? `${min} min ${rest} s` : `${min} min`
  }
  const h = Math.floor(min / 60)
  const restMin = min % 60
  return restMin ? `${h} h ${restMin} min` : `${h} h`
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s
}

/**
 * Milliseconds between start and finish; while unfinished, up to `now`.
 * Null when it never started.
 */
export function elapsedMs(
  startedAt: string | null | undefined,
  finishedAt: string | null | undefined,
  now: number = Date.now(),
): number | null {
  const start = parseTime(startedAt)
  if (!start) return null
  const end = parseTime(finishedAt)
  return Math.max(0, (end ? end.getTime() : now) - start.getTime())
}

const FINAL_RUN_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'filtered', 'canceled'])

/** True when a run will not change state any more (by itself). */
export function isFinalRunState(state: RunState | string): boolean {
  return FINAL_RUN_STATES.has(state)
}

export type Tone = 'neutral' | 'info' | 'warning' | 'success' | 'danger' | 'muted'

/** Colour family for a run or step state badge. */
export function stateTone(state: string): Tone {
  switch (state) {
    case 'succeeded':
      return 'success'
    case 'failed':
      return 'danger'
    case 'running':
      return 'info'
    case 'waiting':
      return 'warning'
    case 'filtered':
    case 'skipped':
    case 'canceled':
      return 'muted'
    default:
      return 'neutral'
  }
}

/** Colour family for an HTTP status (0 = no response). */
export function httpStatusTone(status: number): Tone {
  if (!status) return 'danger'
  if (status < 300) return 'success'
  if (status < 400) return 'info'
  if (status < 500) return 'warning'
  return 'danger'
}

/** Pretty JSON with two-space indent; `undefined` shows as an em dash. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return '—'
  try {
    const s = JSON.stringify(value, null, 2)
    return s === undefined ? String(value) : s
  } catch {
    return String(value)
  }
}

/** A response body: pretty-printed when it is JSON, otherwise as is. */
export function prettyBody(body: string | null | undefined): string {
  if (!body) return ''
  const trimmed = body.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(trimmed), null, 2)
    } catch {
      // fall through
    }
  }
  return body
}

/**
 * The last characters of an id, for compact display. Ids are UUIDv7, whose leading
 * characters are a timestamp shared by everything created in the same minute; the tail is random.
 */
export function shortId(id: string, length = 8): string {
  return id.length > length ? id.slice(-length) : id
}

/** A connection key from a name people type ("Sales Slack" → "sales-slack"). */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.]+/g, '-')
    .replace(/^[-_.]+|-+$/g, '')
    .slice(0, 64)
}

// deliveryKindLabel names a failed attempt's kind (the retry rules of the
// connector SDK): whether trying again could help.
export const deliveryKindLabel: Record<string, string> = {
  retryable: 'retryable',
  rate_limited: 'rate limited',
  permanent: 'permanent',
}
