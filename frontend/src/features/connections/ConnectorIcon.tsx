// A connector's icon: its spec names one (slack, hubspot…); we draw a coloured tile with
// its initial, decorative only (the name is always written beside it).

const COLOURS: Record<string, string> = {
  slack: '#4a154b',
  hubspot: '#b33c12',
  pipedrive: '#1a5c3a',
  discord: '#4752c4',
  telegram: '#1f6f9e',
  'microsoft-teams': '#4b53bc',
  mail: '#5b4a00',
  globe: '#334155',
  send: '#7a2e8c',
}

export function ConnectorIcon({ icon, name }: { icon?: string; name: string }) {
  const key = icon ?? ''
  let hash = 0
  for (const ch of key || name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
  const colour = COLOURS[key] ?? `hsl(${hash % 360} 55% 32%)`
  const letter = (name.trim()[0] ?? '?').toUpperCase()
  return (
    <span className="connector-icon" style={{ background: colour }} aria-hidden="true" data-icon={key || undefined}>
      {letter}
    </span>
  )
}
