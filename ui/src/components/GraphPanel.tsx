// A rule's graph (GET api/rules/NAME/graph): the NFA of a pattern rule, as `vigil explain
// --format dot` draws it, or the operator chain of a `when` rule. Laid out by dagre (left to
// right, like explain's dot) and drawn as SVG.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Graph, layout } from '@dagrejs/dagre';
import { api, type GraphEdge, type GraphNode, type RuleGraph, type RuleStatus } from '../api';

interface Props {
  rules: RuleStatus[];
  selected: string | undefined;
  onSelect: (rule: string) => void;
}

const NAME_CHAR_PX = 7.8; // 13px monospace
const SMALL_CHAR_PX = 6.7; // 11px monospace
const EDGE_LABEL_MAX = 52;
const LOOP_LABEL_MAX = 30; // self-loops widen their node's box on both sides: keep them short

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// Operator chains ("then") need no edge text; NFA edges say their action and condition.
function edgeText(e: GraphEdge): string {
  if (e.action === 'then') return '';
  const max = e.from === e.to ? LOOP_LABEL_MAX : EDGE_LABEL_MAX;
  return e.condition ? `${e.action}: ${clip(e.condition, max)}` : e.action;
}

function nodeSubtitle(n: GraphNode): string {
  return n.detail ? clip(n.detail, 48) : n.kind;
}

interface Loop {
  edge: GraphEdge;
  path: string;
  lx: number; // label's left end
  ly: number; // label's baseline
}

interface Placed {
  width: number;
  height: number;
  nodes: { node: GraphNode; x: number; y: number; w: number; h: number; loops: Loop[] }[];
  edges: { edge: GraphEdge; path: string; lx: number; ly: number; lw: number }[];
}

const NODE_H = 44;
const LOOP_W = 26; // how far a self-loop reaches out of the node's right side
const LABEL_H = 16;

// A smooth path through dagre's points: straight ends, quadratic bends in between.
function pathThrough(points: { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i];
    const q = points[i + 1];
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const last = points[points.length - 1];
  return `${d} L${last.x},${last.y}`;
}

// Where the line from `inner` (a node's centre) towards `outer` leaves the node's box.
function clipToBox(cx: number, cy: number, w: number, h: number, outer: { x: number; y: number }) {
  const dx = outer.x - cx;
  const dy = outer.y - cy;
  if (dx === 0 && dy === 0) return outer;
  const sx = dx === 0 ? Infinity : w / 2 / Math.abs(dx);
  const sy = dy === 0 ? Infinity : h / 2 / Math.abs(dy);
  const s = Math.min(sx, sy, 1);
  return { x: cx + dx * s, y: cy + dy * s };
}

// Top to bottom (fits the page's column better than explain's left to right). Self-loops
// (take/ignore back into the same state) are not given to dagre, which draws them poorly:
// each is a small loop on the node's right with its label beside it, the node's layout box
// widened to hold them.
function place(g: RuleGraph): Placed {
  const dg = new Graph({ multigraph: true });
  dg.setGraph({ rankdir: 'TB', nodesep: 36, ranksep: 46, edgesep: 16, marginx: 16, marginy: 16 });
  dg.setDefaultEdgeLabel(() => ({}));
  const loopsOf = new Map<number, GraphEdge[]>();
  for (const e of g.edges) {
    if (e.from === e.to) loopsOf.set(e.from, [...(loopsOf.get(e.from) ?? []), e]);
  }
  const rectW = new Map<number, number>();
  for (const n of g.nodes) {
    const w = Math.max(n.name.length * NAME_CHAR_PX, nodeSubtitle(n).length * SMALL_CHAR_PX) + 28;
    rectW.set(n.id, Math.max(w, 64));
    const loops = loopsOf.get(n.id) ?? [];
    const labelW = Math.max(0, ...loops.map((e) => edgeText(e).length * SMALL_CHAR_PX));
    const side = loops.length > 0 ? LOOP_W + 8 + labelW : 0;
    dg.setNode(String(n.id), {
      width: rectW.get(n.id)! + 2 * side,
      height: Math.max(NODE_H, loops.length * LABEL_H + 8),
    });
  }
  g.edges.forEach((e, i) => {
    if (e.from === e.to) return;
    const text = edgeText(e);
    dg.setEdge(
      String(e.from),
      String(e.to),
      text ? { width: text.length * SMALL_CHAR_PX + 10, height: 18, labelpos: 'c' } : {},
      `e${i}`,
    );
  });
  layout(dg);
  const graph = dg.graph();
  const nodes = g.nodes.map((node) => {
    const l = dg.node(String(node.id));
    const x = l.x ?? 0;
    const y = l.y ?? 0;
    const w = rectW.get(node.id)!;
    const right = x + w / 2;
    const list = loopsOf.get(node.id) ?? [];
    const loops = list.map((edge, i) => {
      // Loop i leaves the right side above the middle and comes back below it.
      const spread = 8 + 3 * i;
      const reach = LOOP_W + 4 * i;
      const path = `M${right},${y - spread} C${right + reach},${y - spread - 14} ${right + reach},${y + spread + 14} ${right},${y + spread}`;
      const ly = y + 4 + (i - (list.length - 1) / 2) * LABEL_H;
      return { edge, path, lx: right + LOOP_W + 10, ly };
    });
    return { node, x, y, w, h: NODE_H, loops };
  });
  const byId = new Map(nodes.map((n) => [n.node.id, n]));
  const edges = g.edges.flatMap((edge, i) => {
    if (edge.from === edge.to) return [];
    const l = dg.edge({ v: String(edge.from), w: String(edge.to), name: `e${i}` });
    const points = [...(l.points ?? [])];
    const a = byId.get(edge.from)!;
    const b = byId.get(edge.to)!;
    // dagre ends edges on the layout boxes, which are wider than drawn nodes with loops.
    if (points.length >= 2) {
      points[0] = clipToBox(a.x, a.y, a.w, a.h, points[1]);
      points[points.length - 1] = clipToBox(b.x, b.y, b.w, b.h, points[points.length - 2]);
    }
    return [{ edge, path: pathThrough(points), lx: l.x ?? 0, ly: l.y ?? 0, lw: l.width ?? 0 }];
  });
  return { width: graph.width ?? 0, height: graph.height ?? 0, nodes, edges };
}

function GraphSvg({ graph }: { graph: RuleGraph }) {
  const placed = useMemo(() => place(graph), [graph]);
  const actions = ['take', 'ignore', 'proceed', 'then'];
  return (
    <div class="graph-canvas">
      <svg
        data-testid="rule-graph-svg"
        width={placed.width}
        height={placed.height}
        viewBox={`0 0 ${placed.width} ${placed.height}`}
        role="img"
        aria-label={`graph of rule ${graph.rule}`}
      >
        <defs>
          {actions.map((a) => (
            <marker
              id={`arrow-${a}`}
              key={a}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" class={`arrowhead edge-${a}`} />
            </marker>
          ))}
        </defs>
        {placed.edges.map(({ edge, path }, i) => (
          <path
            key={`p${i}`}
            data-testid="graph-edge"
            data-action={edge.action}
            d={path}
            class={`edge-line edge-${edge.action}`}
            marker-end={`url(#arrow-${edge.action})`}
          />
        ))}
        {placed.nodes.flatMap(({ loops }) =>
          loops.map(({ edge, path, lx, ly }, i) => (
            <g key={`loop${edge.from}-${i}`} data-testid="graph-edge" data-action={edge.action} class="edge-loop">
              <title>{edge.condition ? `${edge.action} if ${edge.condition}` : edge.action}</title>
              <path d={path} class={`edge-line edge-${edge.action}`} marker-end={`url(#arrow-${edge.action})`} />
              <text x={lx} y={ly} class={`loop-label edge-${edge.action}`}>
                {edgeText(edge)}
              </text>
            </g>
          )),
        )}
        {placed.nodes.map(({ node, x, y, w, h }) => (
          <g
            key={node.id}
            data-testid="graph-node"
            data-name={node.name}
            data-kind={node.kind}
            class={`node node-${node.kind}`}
            transform={`translate(${x - w / 2},${y - h / 2})`}
          >
            <title>{node.detail || `${node.name} (${node.kind})`}</title>
            <rect width={w} height={h} rx="10" />
            {node.kind === 'final' && <rect class="inner" x="3" y="3" width={w - 6} height={h - 6} rx="8" />}
            <text x={w / 2} y="18" class="node-name">
              {node.name}
            </text>
            <text x={w / 2} y="33" class="node-kind">
              {nodeSubtitle(node)}
            </text>
          </g>
        ))}
        {placed.edges.filter(({ edge }) => edgeText(edge) !== '').map(({ edge, lx, ly, lw }, i) => (
          <g key={`l${i}`} class="edge-label">
            <title>{edge.condition ? `${edge.action} if ${edge.condition}` : edge.action}</title>
            <rect x={lx - lw / 2} y={ly - 9} width={lw} height="18" rx="4" />
            <text x={lx} y={ly + 4} class={`edge-${edge.action}`}>
              {edgeText(edge)}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

export function GraphPanel({ rules, selected, onSelect }: Props) {
  const [graph, setGraph] = useState<RuleGraph | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!selected) return;
    const controller = new AbortController();
    setError(undefined);
    api.graph(selected, controller.signal).then(
      (g) => setGraph(g),
      (e: unknown) => {
        if (!controller.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => controller.abort();
  }, [selected]);

  const names = new Map(graph?.nodes.map((n) => [n.id, n.name]) ?? []);
  return (
    <section class="panel graph" data-testid="graph-panel">
      <h2>
        Rule graph
        <select
          data-testid="graph-rule-select"
          value={selected ?? ''}
          onChange={(e) => onSelect((e.target as HTMLSelectElement).value)}
        >
          {rules.map((r) => (
            <option value={r.name} key={r.name}>
              {r.name}
            </option>
          ))}
        </select>
      </h2>
      {error ? (
        <p class="error">cannot load the graph: {error}</p>
      ) : !graph || graph.rule !== selected ? (
        <p class="muted">{selected ? 'loading…' : 'no rule'}</p>
      ) : (
        <>
          {graph.graph === 'nfa' && (
            <p class="chain" data-testid="graph-chain">
              {graph.chain.map((c, i) => (
                <span key={i} class="mono">
                  {c}
                </span>
              ))}
            </p>
          )}
          <GraphSvg graph={graph} />
          {graph.graph === 'nfa' && (
            <p class="legend small muted">
              <span class="edge-take">— take</span> consumes the event ·{' '}
              <span class="edge-ignore">- - ignore</span> skips it ·{' '}
              <span class="edge-proceed">··· proceed</span> moves on without it
            </p>
          )}
          <details class="transitions">
            <summary>{graph.edges.length} transitions</summary>
            <table class="small">
              <tbody>
                {graph.edges.map((e, i) => (
                  <tr key={i}>
                    <td class="mono nowrap">
                      {names.get(e.from)} → {names.get(e.to)}
                    </td>
                    <td class={`edge-${e.action}`}>{e.action}</td>
                    <td class="mono">{e.condition || 'always'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}
