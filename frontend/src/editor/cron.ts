// A sentence for common cron schedules, shown while a schedule is edited (the server describes
// the saved one and computes the fire times).

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

function hhmm(h: string, m: string): string | null {
  if (!/^\d{1,2}$/.test(h) || !/^\d{1,2}$/.test(m)) return null
  const hn = Number(h)
  const mn = Number(m)
  if (hn > 23 || mn > 59) return null
  return `${String(hn).padStart(2, '0')}:${String(mn).padStart(2, '0')}`
}

function dayList(field: string): string | null {
  if (field === '1-5') return 'weekday'
  if (field === '0,6' || field === '6,0') return 'weekend day'
  const parts = field.split(',')
  if (!parts.every((p) => /^[0-7]$/.test(p))) return null
  return parts.map((p) => DAYS[Number(p) % 7]).join(', ')
}

/** "Every weekday at 09:00", or null when the pattern is not a common one. */
export function describeCron(spec: string): string | null {
  const s = spec.trim()
  const every = /^@every\s+(\d+)([smh])$/.exec(s)
  if (every) {
    const n = Number(every[1])
    const unit = { s: 'second', m: 'minute', h: 'hour' }[every[2] as 's' | 'm' | 'h']
    return n === 1 ? `Every ${unit}` : `Every ${n} ${unit}s`
  }
  const named: Record<string, string> = {
    '@hourly': 'Every hour',
    '@daily': 'Every day at 00:00',
    '@midnight': 'Every day at 00:00',
    '@weekly': 'Every Sunday at 00:00',
    '@monthly': 'On day 1 of every month at 00:00',
  }
  if (named[s]) return named[s]
  const f = s.split(/\s+/)
  if (f.length !== 5) return null
  const [m, h, dom, mon, dow] = f
  if (mon !== '*') return null
  const step = /^\*\/(\d+)$/.exec(m)
  if (step && h === '*' && dom === '*' && dow === '*') return `Every ${step[1]} minutes`
  if (m === '*' && h === '*' && dom === '*' && dow === '*') return 'Every minute'
  if (/^\d{1,2}$/.test(m) && h === '*' && dom === '*' && dow === '*') return `Every hour at minute ${Number(m)}`
  const hstep = /^\*\/(\d+)$/.exec(h)
  if (/^\d{1,2}$/.test(m) && hstep && dom === '*' && dow === '*') return `Every ${hstep[1]} hours at minute ${Number(m)}`
  const at = hhmm(h, m)
  if (!at) return null
  if (dom === '*' && dow === '*') return `Every day at ${at}`
  if (dom === '*') {
    const days = dayList(dow)
    return days ? `Every ${days} at ${at}` : null
  }
  if (dow === '*' && /^\d{1,2}$/.test(dom)) return `On day ${Number(dom)} of every month at ${at}`
  return null
}
