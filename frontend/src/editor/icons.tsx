// Small line icons per trigger and step type (decorative; names are always written out too).

const PATHS: Record<string, string> = {
  webhook: 'M13 2 4 14h7l-1 8 9-12h-7z',
  schedule: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 4v5l3 2',
  form: 'M6 3h12v18H6zM9 8h6M9 12h6M9 16h4',
  filter: 'M3 4h18l-7 8v6l-4 2v-8z',
  map: 'M4 8h13l-3-3M20 16H7l3 3',
  paths: 'M12 3v6M12 9l-6 6v6M12 9l6 6v6',
  for_each: 'M4 12a8 8 0 0 1 14-5l2-2v6h-6l2-2a5 5 0 1 0 1 6',
  delay: 'M7 3h10M7 21h10M8 3c0 5 8 5 8 9s-8 4-8 9M16 3c0 5-8 5-8 9s8 4 8 9',
  action: 'M7 4v16l13-8z',
}

export function TypeIcon({ type }: { type: string }) {
  const d = PATHS[type] ?? PATHS.action
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d={d} />
    </svg>
  )
}
