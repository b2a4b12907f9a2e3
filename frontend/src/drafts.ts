// A new workflow lives in the browser (session storage) until its first save.

import type { ApiClient, Schemas, WorkflowDocument } from './api.ts'

const KEY = 'switchboard.draft'
const WEBHOOK_KEY = 'switchboard.draft-webhook'

export type DraftWebhook = Schemas['NewWebhookView']

/**
 * The webhook URL of the draft, shown before its first save: the server makes the token once
 * per draft (kept with it) and the first save passes it back, so the URL shown is the one that works.
 */
export async function draftWebhook(api: ApiClient, signal?: AbortSignal): Promise<DraftWebhook> {
  try {
    const kept = sessionStorage.getItem(WEBHOOK_KEY)
    if (kept) return JSON.parse(kept) as DraftWebhook
  } catch {
    // fall through to a new one
  }
  const fresh = await api.op('GET', '/api/v1/workflows/webhook-url', { signal })
  try {
    sessionStorage.setItem(WEBHOOK_KEY, JSON.stringify(fresh))
  } catch {
    // only in memory then
  }
  return fresh
}

/** The token of the draft's webhook URL, when one was shown. */
export function draftWebhookToken(): string | undefined {
  try {
    const kept = sessionStorage.getItem(WEBHOOK_KEY)
    return kept ? (JSON.parse(kept) as DraftWebhook).token : undefined
  } catch {
    return undefined
  }
}

export function saveDraft(doc: WorkflowDocument): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(doc))
  } catch {
    // storage full or blocked: the draft only lives in memory
  }
}

export function loadDraft(): WorkflowDocument | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as WorkflowDocument) : null
  } catch {
    return null
  }
}

export function clearDraft(): void {
  try {
    sessionStorage.removeItem(KEY)
    sessionStorage.removeItem(WEBHOOK_KEY)
  } catch {
    // ignore
  }
}
