import type { FloatArray, FloatBlock } from '@pref/cpu-kernels';

/** Frees the arena blocks of storages nobody disposed, once they are unreachable (a backstop, not the rule). */
const unreleased = new FinalizationRegistry<FloatBlock>((block) => block.free());
/** Frees the block behind an `allocate`d array once that array is unreachable. */
const allocated = new FinalizationRegistry<FloatBlock>((block) => block.free());

/** Ties `block` to `view` (the array `allocate` returned): the block is freed once the array is collected. */
export function freeWhenCollected(view: FloatArray, block: FloatBlock): void {
  allocated.register(view, block);
}

/**
 * The memory behind a float tensor made by `fromHost` or a kernel, shared by its reshapes: an
 * arena block it owns (freed when the last tensor on it is disposed), or memory someone else owns
 * (a caller's array, a buffer from `allocate`). Carries the `writeGradientInto` hint of its tensor.
 */
export class TensorStorage {
  private refs = 1;
  /** Where the gradient of the tensor on this storage goes (`writeGradientInto`), until a kernel takes it. */
  gradientTarget: FloatArray | null = null;

  constructor(readonly block: FloatBlock | null) {
    if (block) unreleased.register(this, block, this);
  }

  /** Whether the data lives in an arena block this storage owns (and that is recycled after `release`). */
  get ownsBlock(): boolean {
    return this.block !== null;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs === 0 || --this.refs > 0) return;
    this.gradientTarget = null;
    if (this.block) {
      unreleased.unregister(this);
      this.block.free();
    }
  }

  /** The gradient target for a `[length]` result of `Float`'s precision, taken once; null when none fits. */
  takeGradientTarget(length: number, Float: Float32ArrayConstructor | Float64ArrayConstructor, input: FloatArray): FloatArray | null {
    const target = this.gradientTarget;
    this.gradientTarget = null;
    if (!target || !(target instanceof Float) || target.length !== length) return null;
    // The gradient cannot be computed over its own input.
    return target.buffer === input.buffer && overlaps(target, input) ? null : target;
  }
}

function overlaps(a: FloatArray, b: FloatArray): boolean {
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
