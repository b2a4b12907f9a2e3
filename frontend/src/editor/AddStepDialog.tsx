// Choose what to add at a place in the tree: a logic step or a connector action.

import { useId, useState, type ReactNode } from 'react'
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
          <PickList id={`${id}-logic`} title="Logic">
            {logic.map((s) => (
              <PickItem key={s.type} icon={<TypeIcon type={s.type} />} name={s.label} help={s.help} onPick={() => onPick(s.type)} />
            ))}
          </PickList>
        ) : null}
        {apps.length ? (
          <PickList id={`${id}-apps`} title="Apps">
            {apps.flatMap(({ c, actions }) =>
              actions.map((a) => (
                <PickItem
                  key={`${c.id}.${a.id}`}
                  icon={c.name.slice(0, 1)}
                  name={`${c.name}: ${a.name}`}
                  help={a.description ?? c.description}
                  onPick={() => onPick(`${c.id}.${a.id}`)}
                />
              )),
            )}
          </PickList>
        ) : null}
        {!logic.length && !apps.length ? <p className="muted">Nothing matches “{q}”.</p> : null}
      </div>
    </Modal>
  )
}

function PickList({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      <ul className="add-step__list">{children}</ul>
    </section>
  )
}

function PickItem({ icon, name, help, onPick }: { icon: ReactNode; name: string; help?: string; onPick: () => void }) {
  return (
    <li>
      <button type="button" className="add-step__item" onClick={onPick}>
        <span className="add-step__icon" aria-hidden="true">
          {icon}
        </span>
        <span>
          <span className="add-step__name">{name}</span>
          <span className="add-step__help">{help}</span>
        </span>
      </button>
    </li>
  )
}
