// Choose what to add at a place in the tree: a logic step or a connector action.

import { useId, useState } from 'react'
import type { ConnectorSpec } from '../api.ts'
import { Modal } from '../components.tsx'
import { TypeIcon } from './icons.tsx'
import { LOGIC_STEPS } from './doc.ts'

export function AddStepDialog({
  place,
  connectors,
  onPick,
  onClose,
}: {
  place: string
  connectors: ConnectorSpec[]
  onPick: (kind: string) => void
  onClose: () => void
}) {
  const [q, setQ] = useState('')
  const id = useId()
  const query = q.trim().toLowerCase()
  const match = (...s: Array<string | undefined>) => !query || s.some((x) => x?.toLowerCase().includes(query))
  const logic = LOGIC_STEPS.filter((s) => match(s.label, s.help, s.type))
  const apps = connectors
    .map((c) => ({ c, actions: (c.actions ?? []).filter((a) => match(c.name, a.name, a.description, c.description)) }))
    .filter((x) => x.actions.length)
  return (
    <Modal title={`Add a step ${place}`} onClose={onClose} wide>
      <div className="field">
        <label htmlFor={`${id}-q`}>Search steps and apps</label>
        <input
          id={`${id}-q`}
          type="search"
          data-autofocus
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault()
              const first = logic[0]?.type ?? (apps[0] ? `${apps[0].c.id}.${apps[0].actions[0].id}` : null)
              if (first) onPick(first)
            }
          }}
        />
      </div>
      <div className="add-step">
        {logic.length ? (
          <section aria-labelledby={`${id}-logic`}>
            <h3 id={`${id}-logic`}>Logic</h3>
            <ul className="add-step__list">
              {logic.map((s) => (
                <li key={s.type}>
                  <button type="button" className="add-step__item" onClick={() => onPick(s.type)}>
                    <span className="add-step__icon" aria-hidden="true">
                      <TypeIcon type={s.type} />
                    </span>
                    <span>
                      <span className="add-step__name">{s.label}</span>
                      <span className="add-step__help">{s.help}</span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
        {apps.length ? (
          <section aria-labelledby={`${id}-apps`}>
            <h3 id={`${id}-apps`}>Apps</h3>
            <ul className="add-step__list">
              {apps.flatMap(({ c, actions }) =>
                actions.map((a) => (
                  <li key={`${c.id}.${a.id}`}>
                    <button type="button" className="add-step__item" onClick={() => onPick(`${c.id}.${a.id}`)}>
                      <span className="add-step__icon" aria-hidden="true">
                        {c.name.slice(0, 1)}
                      </span>
                      <span>
                        <span className="add-step__name">
                          {c.name}: {a.name}
                        </span>
                        <span className="add-step__help">{a.description ?? c.description}</span>
                      </span>
                    </button>
                  </li>
                )),
              )}
            </ul>
          </section>
        ) : null}
        {!logic.length && !apps.length ? <p className="muted">Nothing matches “{q}”.</p> : null}
      </div>
    </Modal>
  )
}
