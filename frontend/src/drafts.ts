// A new workflow lives in the browser (session storage) until its first save.

import type { WorkflowDocument } from './api.ts'

const KEY = 'switchboard.draft'

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
  } catch {
    // ignore
  }
}
