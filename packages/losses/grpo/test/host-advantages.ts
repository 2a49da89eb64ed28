// Plain float64 implementations of the advantage estimators, independent of TensorOps, that the
// tests compare the package's tensor versions against.

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const unbiasedStd = (xs: readonly number[]) => {
  const mu = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / (xs.length - 1));
};

function groupsOf(rewards: readonly number[], groupSize: number): number[][] {
  const groups: number[][] = [];
  for (let begin = 0; begin < rewards.length; begin += groupSize) groups.push(rewards.slice(begin, begin + groupSize));
  return groups;
}

export function hostGroupAdvantages(rewards: readonly number[], groupSize: number, scale: 'group' | 'batch' | 'none'): number[] {
  const batchStd = unbiasedStd(rewards);
  return groupsOf(rewards, groupSize).flatMap((group) => {
    const mu = mean(group);
    const divisor = scale === 'group' ? unbiasedStd(group) + 1e-4 : scale === 'batch' ? batchStd + 1e-4 : 1;
    return group.map((r) => (r - mu) / divisor);
  });
}

export function hostLeaveOneOut(rewards: readonly number[], groupSize: number): number[] {
  return groupsOf(rewards, groupSize).flatMap((group) => {
    const total = group.reduce((s, r) => s + r, 0);
    return group.map((r) => r - (total - r) / (groupSize - 1));
  });
}

export function hostGlobalNormalize(advantages: readonly number[]): number[] {
  const mu = mean(advantages);
  const std = unbiasedStd(advantages);
  return advantages.map((a) => (a - mu) / (std + 1e-4));
}
