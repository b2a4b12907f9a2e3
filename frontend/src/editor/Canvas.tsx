// The canvas: trigger and step tree drawn with React Flow, laid out automatically. Nodes are
// buttons (select a node to edit it); every "+" is a button that adds a step at that place.

import {
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  getSmoothStepPath,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeChange,
  type NodeProps,
} from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { createContext, memo, useContext, useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent, type ReactNode } from 'react'
import type { StepDoc } from '../api.ts'
import { EditorContext, nodeButtonId, useEditor, type EditorContextValue } from './context.ts'
import { findStep, stepKindLabel, stepSummary } from './doc.ts'
import { TypeIcon } from './icons.tsx'
import { layoutDocument, NODE_H, NODE_W, type FlowEdge, type FlowNode } from './layout.ts'

type NodeData = FlowNode['data'] & Record<string, unknown>
type EdgeData = { insert?: FlowEdge['insert']; label?: string; dashed?: boolean } & Record<string, unknown>

/** The place a dragged step would land ("list#index"), to highlight it. */
const DropContext = createContext<string | null>(null)
const dropKey = (list: string, index: number) => `${list}#${index}`

/** Pans the canvas so a node that got the keyboard focus is in view. */
function useRevealOnFocus(nodeId: string) {
  const flow = useReactFlow()
  return () => {
    const node = flow.getInternalNode(nodeId)
    const pane = document.querySelector('.canvas .react-flow')?.getBoundingClientRect()
    if (!node || !pane) return
    const { x, y, zoom } = flow.getViewport()
    const w = node.measured.width ?? 0
    const h = node.measured.height ?? 0
    const px = node.internals.positionAbsolute.x * zoom + x
    const py = node.internals.positionAbsolute.y * zoom + y
    const margin = 24
    if (px >= margin && py >= margin && px + w * zoom <= pane.width - margin && py + h * zoom <= pane.height - margin) return
    void flow.setCenter(node.internals.positionAbsolute.x + w / 2, node.internals.positionAbsolute.y + h / 2, { zoom: Math.max(zoom, 0.6), duration: 120 })
  }
}

const hiddenHandle = { opacity: 0, pointerEvents: 'none' as const, border: 0, width: 1, height: 1, minWidth: 0, minHeight: 0 }

function Handles() {
  return (
    <>
      <Handle type="target" position={Position.Top} isConnectable={false} style={hiddenHandle} />
      <Handle type="source" position={Position.Bottom} isConnectable={false} style={hiddenHandle} />
    </>
  )
}

function triggerSummary(type: string, trigger: Record<string, unknown>): string {
  if (type === 'webhook') {
    const m = (trigger.webhook as { methods?: string[] } | undefined)?.methods
    return `${(m?.length ? m : ['POST']).join(', ')} request to the workflow URL`
  }
  if (type === 'schedule') return (trigger.schedule as { cron?: string } | undefined)?.cron || 'no schedule yet'
  if (type === 'form') {
    const n = ((trigger.form as { fields?: unknown[] } | undefined)?.fields ?? []).length
    return `${n} field${n === 1 ? '' : 's'}`
  }
  return ''
}

// NodeButton is the selectable face of a trigger or step node: icon, kind, title and
// summary, with the node's status marks as children. The kind/title/summary ids
// are what the node's accessible name is built from.
function NodeButton({
  bid,
  type,
  selected,
  onClick,
  onFocus,
  kind,
  title,
  summary,
  children,
}: {
  bid: string
  type: string
  selected: boolean
  onClick: () => void
  onFocus: () => void
  kind: string
  title: string
  summary: ReactNode
  children: ReactNode
}) {
  return (
    <button type="button" id={bid} className="flow-node__button" aria-pressed={selected} onClick={onClick} onFocus={onFocus}>
      <span className="flow-node__icon" aria-hidden="true">
        <TypeIcon type={type} />
      </span>
      <span className="flow-node__text">
        <span className="flow-node__kind" id={`${bid}-k`}>
          {kind}
        </span>{' '}
        <span className="flow-node__title" id={`${bid}-t`}>
          {title}
        </span>{' '}
        {summary}
      </span>
      {children}
    </button>
  )
}

const TriggerNode = memo(function TriggerNode() {
  const ed = useEditor()
  const reveal = useRevealOnFocus('trigger')
  const bid = nodeButtonId(null)
  const t = ed.doc.trigger
  const errors = ed.errorCount(null)
  const selected = ed.selected === 'trigger'
  const label = t.type ? `${t.type[0].toUpperCase()}${t.type.slice(1)}` : 'Trigger'
  return (
    <div className={`flow-node flow-node--trigger${selected ? ' is-selected' : ''}${errors ? ' has-error' : ''}`} data-node="trigger">
      <Handles />
      <NodeButton
        bid={bid}
        type={t.type}
        selected={selected}
        onClick={() => ed.select('trigger')}
        onFocus={reveal}
        kind="Trigger"
        title={label}
        summary={
          <span className="flow-node__summary" id={`${bid}-d`}>
            {triggerSummary(t.type, t)}
          </span>
        }
      >
        <span className="visually-hidden" id={`${bid}-s`}>
          {errors ? `, ${errors} problem${errors > 1 ? 's' : ''}` : ''}
        </span>
        {errors ? (
          <span className="flow-node__error" aria-hidden="true">
            {errors}
          </span>
        ) : null}
        {ed.triggerRunState ? <span className={`flow-node__state state-${ed.triggerRunState}`} aria-hidden="true" /> : null}
      </NodeButton>
    </div>
  )
})

const StepNode = memo(function StepNode({ id, data }: NodeProps<Node<NodeData>>) {
  const ed = useEditor()
  const reveal = useRevealOnFocus(id)
  const entry = data.stepId ? findStep(ed.doc, data.stepId) : undefined
  if (!entry) return null
  const step: StepDoc = entry.step
  const errors = ed.errorCount(step.id)
  const state = ed.runState(step.id)
  const selected = ed.selected === step.id
  const bid = nodeButtonId(step.id)
  const kind = stepKindLabel(step, ed.actionName)
  const title = step.name || kind
  const summary = stepSummary(step)
  const status = [
    errors ? `${errors} problem${errors > 1 ? 's' : ''}` : '',
    state ? `last test: ${state}` : '',
  ]
    .filter(Boolean)
    .join(', ')
  return (
    <div
      className={`flow-node flow-node--${step.type}${selected ? ' is-selected' : ''}${errors ? ' has-error' : ''}${state ? ` run-${state}` : ''}`}
      data-node={step.id}
      data-run-state={state}
    >
      <Handles />
      <NodeButton
        bid={bid}
        type={step.type}
        selected={selected}
        onClick={() => ed.select(step.id)}
        onFocus={reveal}
        kind={`Step ${data.number}`}
        title={title}
        summary={
          <span className="flow-node__summary">
            <code id={`${bid}-i`}>{step.id}</code>
            {summary ? <span id={`${bid}-d`}> · {summary}</span> : null}
          </span>
        }
      >
        <span className="visually-hidden" id={`${bid}-s`}>
          {status ? `, ${status}` : ''}
        </span>
        {errors ? (
          <span className="flow-node__error" aria-hidden="true" title={`${errors} problem(s)`}>
            {errors}
          </span>
        ) : null}
        {state ? (
          <span className={`flow-node__state state-${state}`} aria-hidden="true" title={`Last test: ${state}`}>
            {state === 'succeeded' ? '✓' : state === 'failed' ? '!' : state === 'filtered' ? '–' : '…'}
          </span>
        ) : null}
      </NodeButton>
    </div>
  )
})

const AddNode = memo(function AddNode({ id, data }: NodeProps<Node<NodeData>>) {
  const ed = useEditor()
  const reveal = useRevealOnFocus(id)
  const drop = useContext(DropContext)
  return (
    <div className={`flow-add${drop === dropKey(data.list!, data.index!) ? ' is-drop' : ''}`}>
      <Handles />
      {ed.canEdit ? (
        <button
          type="button"
          className="flow-add__button"
          aria-label={`Add a step ${data.place}`}
          title={`Add a step ${data.place}`}
          onClick={() => ed.openAdd(data.list!, data.index!, data.place!)}
          onFocus={reveal}
        >
          +
        </button>
      ) : (
        <span className="flow-add__end" aria-hidden="true" />
      )}
    </div>
  )
})

const LoopGroup = memo(function LoopGroup({ data }: NodeProps<Node<NodeData>>) {
  return (
    <div className="flow-group" aria-hidden="true">
      <Handles />
      <span className="flow-group__label">For each item · {data.stepId}</span>
    </div>
  )
})

const Dot = memo(function Dot() {
  return (
    <div className="flow-dot" aria-hidden="true">
      <Handles />
    </div>
  )
})

function InsertEdge({ id, sourceX, sourceY, targetX, targetY, data, markerEnd }: EdgeProps<Edge<EdgeData>>) {
  const ed = useEditor()
  const drop = useContext(DropContext)
  const [path, labelX, labelY] = getSmoothStepPath({
    sourceX,
    sourceY,
    targetX,
    targetY,
    sourcePosition: Position.Bottom,
    targetPosition: Position.Top,
    borderRadius: 10,
  })
  const insert = data?.insert
  const label = data?.label
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} className={data?.dashed ? 'flow-edge--dashed' : undefined} />
      {insert || label ? (
        <EdgeLabelRenderer>
          {label ? (
            <div className="flow-edge__label nodrag nopan" style={{ transform: `translate(-50%, 0) translate(${targetX}px, ${labelY + 8}px)` }}>
              {label}
            </div>
          ) : null}
          {insert && ed.canEdit ? (
            <button
              type="button"
              className={`flow-edge__add nodrag nopan${drop === dropKey(insert.list, insert.index) ? ' is-drop' : ''}`}
              style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
              aria-label={`Add a step ${insert.place}`}
              title={`Add a step ${insert.place}`}
              onClick={() => ed.openAdd(insert.list, insert.index, insert.place)}
            >
              +
            </button>
          ) : null}
        </EdgeLabelRenderer>
      ) : null}
    </>
  )
}

/** Taller than this (in canvas pixels) and the canvas is not fitted into view. */
const TALL = 2400

const nodeTypes = { trigger: TriggerNode, step: StepNode, add: AddNode, loop: LoopGroup, dot: Dot }
const edgeTypes = { insert: InsertEdge }

export default function Canvas({ ctx }: { ctx: EditorContextValue }) {
  return (
    <ReactFlowProvider>
      <CanvasFlow ctx={ctx} />
    </ReactFlowProvider>
  )
}

function CanvasFlow({ ctx }: { ctx: EditorContextValue }) {
  const flow = useReactFlow()
  /** The pointer of a drag event, in canvas coordinates. */
  const pointer = (e: ReactMouseEvent | MouseEvent | TouchEvent) => {
    const p = 'touches' in e ? (e.touches[0] ?? e.changedTouches[0]) : e
    return p ? flow.screenToFlowPosition({ x: p.clientX, y: p.clientY }) : null
  }
  // Layout depends only on the shape of the tree, so typing in a field does not move nodes.
  const shapeKey = JSON.stringify(shapeOf(ctx.doc.steps))
  const layout = useMemo(() => layoutDocument(ctx.doc), [shapeKey]) // eslint-disable-line react-hooks/exhaustive-deps
  const tall = layout.height > TALL
  const [drag, setDrag] = useState<{ id: string; position: { x: number; y: number } } | null>(null)
  const [drop, setDrop] = useState<{ list: string; index: number } | null>(null)
  const baseNodes = useMemo<Node<NodeData>[]>(
    () =>
      layout.nodes.map((n) => ({
        id: n.id,
        // React Flow styles its own "group" type; the loop box has its own look.
        type: n.type === 'group' ? 'loop' : n.type,
        position: n.position,
        data: n.data as NodeData,
        width: n.width,
        height: n.height,
        style: { width: n.width, height: n.height },
        draggable: ctx.canEdit && n.type === 'step',
        selectable: false,
        connectable: false,
        focusable: false,
        zIndex: n.zIndex,
      })),
    [layout, ctx.canEdit],
  )
  const nodes = useMemo(
    () => (drag ? baseNodes.map((n) => (n.id === drag.id ? { ...n, position: drag.position, zIndex: 1000 } : n)) : baseNodes),
    [baseNodes, drag],
  )
  // Where a step can be dropped: every "+" (on edges and at the ends of lists).
  const spots = useMemo(() => {
    const byId = new Map(layout.nodes.map((n) => [n.id, n]))
    const out: Array<{ list: string; index: number; x: number; y: number }> = []
    for (const e of layout.edges) {
      const s = byId.get(e.source)
      const t = byId.get(e.target)
      if (!e.insert || !s || !t) continue
      out.push({ ...e.insert, x: t.position.x + t.width / 2, y: (s.position.y + s.height + t.position.y) / 2 })
    }
    for (const n of layout.nodes) {
      if (n.type === 'add') out.push({ list: n.data.list!, index: n.data.index!, x: n.position.x + n.width / 2, y: n.position.y + n.height / 2 })
    }
    return out
  }, [layout])
  const edges = useMemo<Edge<EdgeData>[]>(
    () =>
      layout.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        type: 'insert',
        data: { insert: e.insert, label: e.label, dashed: e.dashed },
        selectable: false,
        focusable: false,
      })),
    [layout],
  )
  return (
    <EditorContext.Provider value={ctx}>
      <DropContext.Provider value={drop ? dropKey(drop.list, drop.index) : null}>
      <div className="canvas" data-testid="canvas">
        <ReactFlow
          nodes={nodes}
          edges={edges}
          onNodesChange={(changes: NodeChange<Node<NodeData>>[]) => {
            for (const c of changes) {
              if (c.type === 'position' && c.position && c.dragging) setDrag({ id: c.id, position: c.position })
            }
          }}
          nodeDragThreshold={4}
          onNodeDrag={(e, node) => setDrop(nearestSpot(spots, pointer(e), node, ctx))}
          onNodeDragStop={(e, node) => {
            const spot = nearestSpot(spots, pointer(e), node, ctx)
            setDrag(null)
            setDrop(null)
            if (spot && node.data.stepId) ctx.moveTo(node.data.stepId, spot.list, spot.index)
          }}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          fitView={!tall}
          fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
          onInit={(flow) => {
            // A long workflow starts at its top, readable, instead of fitted to a blur.
            if (!tall) return
            const pane = document.querySelector('.canvas .react-flow')?.getBoundingClientRect()
            const zoom = 0.8
            void flow.setViewport({ x: ((pane?.width ?? 800) - layout.width * zoom) / 2, y: 24, zoom })
          }}
          minZoom={0.05}
          maxZoom={1.5}
          onlyRenderVisibleElements={nodes.length > 400}
          proOptions={{ hideAttribution: true }}
          onPaneClick={() => ctx.select(null)}
          zoomOnDoubleClick={false}
        >
          {tall ? null : <AutoFit shapeKey={shapeKey} />}
          <Controls showInteractive={false} position="bottom-left" />
          {nodes.length > 12 ? <MiniMap pannable zoomable ariaLabel="Overview of the workflow" /> : null}
        </ReactFlow>
      </div>
      </DropContext.Provider>
    </EditorContext.Provider>
  )
}

/** The closest drop spot to the pointer (or the node's centre), if close enough and allowed. */
function nearestSpot(
  spots: Array<{ list: string; index: number; x: number; y: number }>,
  at: { x: number; y: number } | null,
  node: Node<NodeData>,
  ctx: EditorContextValue,
): { list: string; index: number } | null {
  const entry = node.data.stepId ? findStep(ctx.doc, node.data.stepId) : undefined
  if (!entry) return null
  const p = at ?? { x: node.position.x + NODE_W / 2, y: node.position.y + NODE_H / 2 }
  let best: { list: string; index: number } | null = null
  let bestD = 70
  for (const s of spots) {
    if (s.list === entry.path || s.list.startsWith(entry.path + '.')) continue
    if (s.list === entry.list && (s.index === entry.index || s.index === entry.index + 1)) continue
    const d = Math.hypot(s.x - p.x, s.y - p.y)
    if (d < bestD) {
      bestD = d
      best = { list: s.list, index: s.index }
    }
  }
  return best
}

/** Fits the tree into view again when steps are added, removed or moved. */
function AutoFit({ shapeKey }: { shapeKey: string }) {
  const flow = useReactFlow()
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    const t = window.setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1, minZoom: 0.5, duration: 150 }), 30)
    return () => window.clearTimeout(t)
  }, [shapeKey, flow])
  return null
}

/** The tree's shape: types, ids and nesting, without field values. */
function shapeOf(steps: StepDoc[] | undefined): unknown {
  return (steps ?? []).map((s) => [
    s.id,
    s.type,
    s.type === 'paths' ? (s.paths ?? []).map((p) => [p.name, shapeOf(p.steps)]) : null,
    s.type === 'for_each' ? shapeOf(s.steps) : null,
  ])
}
