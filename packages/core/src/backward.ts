import type { Tensor } from './tensor';
import type { TensorOps } from './tensor-ops';

/**
 * Reverse-mode autodiff: gradients of the scalar `output` with respect to each tensor in
 * `leaves` (null where the output does not depend on it), scaled by `seed` (a scalar, default
 * 1). Runs every gradient rule through `ops`, so it only issues backend primitives and never
 * reads values.
 */
export function backward(ops: TensorOps, output: Tensor, leaves: readonly Tensor[], seed?: Tensor): (Tensor | null)[] {
  if (output.shape.length !== 0) throw new Error(`backward needs a scalar output, got shape [${output.shape.join(', ')}]`);
  const order = topologicalOrder(output);
  const grads = new Map<number, Tensor>();
  grads.set(output.id, seed ?? ops.fill([], 1));
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t.id);
    if (!g || !t.node) continue;
    const inputGrads = t.node.backward(g);
    t.node.inputs.forEach((input, k) => {
      const ig = inputGrads[k];
      if (!ig || !input.requiresGrad) return;
      const prev = grads.get(input.id);
      grads.set(input.id, prev ? ops.add(prev, ig) : ig);
    });
  }
  return leaves.map((leaf) => grads.get(leaf.id) ?? null);
}

/** Tensors that `output` depends on through recorded nodes, inputs before outputs. */
function topologicalOrder(output: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<number>();
  const stack: [Tensor, boolean][] = [[output, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t.id)) continue;
    visited.add(t.id);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) if (input.requiresGrad && !visited.has(input.id)) stack.push([input, false]);
  }
  return order;
}
