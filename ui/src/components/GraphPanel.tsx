// A rule's graph (GET api/rules/NAME/graph): the NFA of a pattern rule, as `vigil explain
// --format dot` draws it, or the operator chain of a `when` rule. Laid out by dagre (left to
// right, like explain's dot) and drawn as SVG.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Graph, layout } from '@dagrejs/dagre';
import { api, type GraphEdge, type GraphNode, type RuleGraph, type RuleStatus } from '../api';
import { fmtDuration } from '../format';

interface Props {
  rules: RuleStatus[];
  selected: string | undefined;
  onSelect: (rule: string) => void;
}

const NAME_CHAR_PX = 7.8; // 13px monospace
const SMALL_CHAR_PX = 6.7; // 11px monospace
const EDGE_LABEL_MAX = 44;

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function edgeText(e: GraphEdge): string {
  return e.condition ? `${e.action}: ${clip(e.condition, EDGE_LABEL_MAX)}` : e.action;
}

function nodeSubtitle(n: GraphNode): string {
  return n.detail ? clip(n.detail, 48) : n.kind;
}

interface Placed {
  width: number;
  height: number;
  nodes: { node: GraphNode; x: number; y: number; w: number; h: number }[];
  edges: { edge: GraphEdge; path: string; lx: number; ly: number; lw: number }[];
}

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

function place(g: RuleGraph): Placed {
  const dg = new Graph({ multigraph: true });
  dg.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 70, edgesep: 14, marginx: 16, marginy: 16 });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const n of g.nodes) {
    const w = Math.max(n.name.length * NAME_CHAR_PX, nodeSubtitle(n).length * SMALL_CHAR_PX) + 28;
    dg.setNode(String(n.id), { width: Math.max(w, 64), height: 44 });
  }
  g.edges.forEach((e, i) => {
    const text = edgeText(e);
    dg.setEdge(
      String(e.from),
      String(e.to),
      { width: text.length * SMALL_CHAR_PX + 10, height: 18, labelpos: 'c' },
      `e${i}`,
    );
  });
  layout(dg);
  const graph = dg.graph();
  const nodes = g.nodes.map((node) => {
    const l = dg.node(String(node.id));
    return { node, x: l.x ?? 0, y: l.y ?? 0, w: l.width, h: l.height };
  });
  const edges = g.edges.map((edge, i) => {
    const l = dg.edge({ v: String(edge.from), w: String(edge.to), name: `e${i}` });
    return {
      edge,
      path: pathThrough(l.points ?? []),
      lx: l.x ?? 0,
      ly: l.y ?? 0,
      lw: l.width ?? 0,
    };
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
            d={path}
            class={`edge-line edge-${edge.action}`}
            marker-end={`url(#arrow-${edge.action})`}
          />
        ))}
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
        {placed.edges.map(({ edge, lx, ly, lw }, i) => (
          <g key={`l${i}`} data-testid="graph-edge" data-action={edge.action} class="edge-label">
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
          <p class="chain" data-testid="graph-chain">
            {graph.chain.map((c, i) => (
              <span key={i} class="mono">
                {c}
              </span>
            ))}
            {graph.within_ms != null && (
              <span class="muted small">window {fmtDuration(graph.within_ms)}</span>
            )}
          </p>
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
