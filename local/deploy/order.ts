/** The order CloudFormation creates a template's resources in. */
import type { CfnResource } from '../stack';

/** Logical ids a node refers to (Ref, Fn::GetAtt, ${X} and ${X.Attr} in Fn::Sub). */
function references(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) references(n, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : (String(v).split('.')[0] ?? ''));
      else if (k === 'Fn::Sub') {
        const template = Array.isArray(v) ? String(v[0]) : String(v);
        for (const m of template.matchAll(/\$\{([^}!.]+)/g)) out.add(m[1] ?? '');
        if (Array.isArray(v)) references(v[1], out);
      } else references(v, out);
    }
  }
  return out;
}

/** CloudFormation's order: every resource after the ones it refers to or depends on. */
export function deployOrder(resources: Record<string, CfnResource>): string[] {
  const ids = new Set(Object.keys(resources));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`circular dependency through ${id}`);
    state.set(id, 'visiting');
    const r = resources[id] as CfnResource;
    const deps = new Set([...references(r.Properties), ...[r.DependsOn ?? []].flat()]);
    for (const d of deps) if (ids.has(d) && d !== id) visit(d);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...ids].sort()) visit(id);
  return order;
}
