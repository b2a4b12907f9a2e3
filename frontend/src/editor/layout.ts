// Automatic layout of the step tree for React Flow: the trigger on top, steps downwards,
// paths side by side under their paths step, a for_each's steps inside a box. Pure: the
// same document always gives the same nodes and edges.

import type { StepDoc, WorkflowDocument } from '../api.ts'

export const NODE_W = 260
export const NODE_H = 72
const GAP_Y = 56
const GAP_X = 40
const ADD_SIZE = 28
const DOT = 10
const PAD = 20
const LABEL_SPACE = 18

export type FlowNodeKind = 'trigger' | 'step' | 'add' | 'group' | 'dot'

export interface FlowNode {
  id: string
  type: FlowNodeKind
  position: { x: number; y: number }
  width: number
  height: number
  data: {
    stepId?: string
    /** Where the add node inserts: the list path and the index. */
    list?: string
    index?: number
    /** A human description of the place, for labels ("at the end of Path A"). */
    place?: string
    number?: number
  }
  zIndex?: number
}

export interface FlowEdge {
  id: string
  source: string
  target: string
  /** When set, the edge shows a "+" that inserts a step there. */
  insert?: { list: string; index: number; place: string }
  label?: string
  dashed?: boolean
}

export interface Layout {
  nodes: FlowNode[]
  edges: FlowEdge[]
  width: number
  height: number
}

interface Size {
  w: number
  h: number
}

function listSize(steps: StepDoc[]): Size {
  let w = ADD_SIZE
  let h = 0
  for (const s of steps) {
    const sz = stepSize(s)
    w = Math.max(w, sz.w)
    h += sz.h + GAP_Y
  }
  h += ADD_SIZE
  return { w: Math.max(w, NODE_W), h }
}

function stepSize(s: StepDoc): Size {
  if (s.type === 'paths') {
    const branches = (s.paths ?? []).map((p) => listSize(p.steps ?? []))
    const w = branches.reduce((a, b) => a + b.w, 0) + GAP_X * Math.max(0, branches.length - 1)
    const h = Math.max(ADD_SIZE, ...branches.map((b) => b.h))
    return { w: Math.max(NODE_W, w), h: NODE_H + GAP_Y + LABEL_SPACE + h + GAP_Y + DOT }
  }
  if (s.type === 'for_each') {
    const inner = listSize(s.steps ?? [])
    return { w: Math.max(NODE_W, inner.w) + 2 * PAD, h: PAD + NODE_H + GAP_Y + inner.h + PAD }
  }
  return { w: NODE_W, h: NODE_H }
}

/** Lays out the whole document. */
export function layoutDocument(doc: WorkflowDocument): Layout {
  const nodes: FlowNode[] = []
  const edges: FlowEdge[] = []
  let counter = 0

  const size = listSize(doc.steps ?? [])
  const width = Math.max(size.w, NODE_W)
  const cx = width / 2

  nodes.push({
    id: 'trigger',
    type: 'trigger',
    position: { x: cx - NODE_W / 2, y: 0 },
    width: NODE_W,
    height: NODE_H,
    data: {},
  })

  /**
   * Places a list centred on cx from y; connects `from` (a node id whose bottom leads in) to the
   * first element. Returns the id of the last node (whose bottom leads out) — the add node.
   */
  const placeList = (
    steps: StepDoc[],
    list: string,
    cx: number,
    y: number,
    from: string,
    place: string,
    firstLabel?: string,
  ): void => {
    let prev = from
    let label = firstLabel
    steps.forEach((s, i) => {
      const path = `${list}[${i}]`
      const sz = stepSize(s)
      const nodeId = `step:${s.id}`
      counter += 1
      const number = counter
      const insert = { list, index: i, place: i === 0 ? `at the start of ${place}` : `before step ${s.id}` }
      // The step's own box, top at `top`, joined to what comes before it.
      const placeStep = (top: number) => {
        nodes.push({
          id: nodeId,
          type: 'step',
          position: { x: cx - NODE_W / 2, y: top },
          width: NODE_W,
          height: NODE_H,
          data: { stepId: s.id, number },
        })
        edges.push({ id: `e:${prev}->${nodeId}`, source: prev, target: nodeId, insert, label })
      }
      if (s.type === 'for_each') {
        const groupId = `group:${s.id}`
        nodes.push({
          id: groupId,
          type: 'group',
          position: { x: cx - sz.w / 2, y },
          width: sz.w,
          height: sz.h,
          data: { stepId: s.id },
          zIndex: -1,
        })
        placeStep(y + PAD)
        placeList(s.steps ?? [], `${path}.steps`, cx, y + PAD + NODE_H + GAP_Y, nodeId, `the loop ${s.id}`)
        prev = groupId
      } else if (s.type === 'paths') {
        placeStep(y)
        const branches = (s.paths ?? []).map((p) => listSize(p.steps ?? []))
        const total = branches.reduce((a, b) => a + b.w, 0) + GAP_X * Math.max(0, branches.length - 1)
        let x = cx - total / 2
        const by = y + NODE_H + GAP_Y + LABEL_SPACE
        const dotId = `dot:${s.id}`
        ;(s.paths ?? []).forEach((p, j) => {
          const bw = branches[j].w
          const branchList = `${path}.paths[${j}].steps`
          const addId = `add:${branchList}`
          placeList(p.steps ?? [], branchList, x + bw / 2, by, nodeId, `path ${p.name || j + 1}`, p.name || `Path ${j + 1}`)
          edges.push({ id: `e:${addId}->${dotId}`, source: addId, target: dotId, dashed: true })
          x += bw + GAP_X
        })
        nodes.push({
          id: dotId,
          type: 'dot',
          position: { x: cx - DOT / 2, y: y + sz.h - DOT },
          width: DOT,
          height: DOT,
          data: { stepId: s.id },
        })
        prev = dotId
      } else {
        placeStep(y)
        prev = nodeId
      }
      label = undefined
      y += sz.h + GAP_Y
    })
    const addId = `add:${list}`
    nodes.push({
      id: addId,
      type: 'add',
      position: { x: cx - ADD_SIZE / 2, y },
      width: ADD_SIZE,
      height: ADD_SIZE,
      data: { list, index: steps.length, place: `at the end of ${place}` },
    })
    edges.push({ id: `e:${prev}->${addId}`, source: prev, target: addId, label })
  }

  placeList(doc.steps ?? [], 'steps', cx, NODE_H + GAP_Y, 'trigger', 'the workflow')
  const height = NODE_H + GAP_Y + size.h
  return { nodes, edges, width, height }
}
