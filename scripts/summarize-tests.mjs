// Prints vitest's JSON results as one plain closing line: "tests: N passed, M failed, K skipped",
// and lists skipped tests with their reasons (the reason is in the test name).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
const results = JSON.parse(readFileSync(file, 'utf8'));
const skipped = [];
for (const suite of results.testResults) {
  for (const test of suite.assertionResults) {
    if (test.status === 'skipped' || test.status === 'pending') skipped.push(test.fullName);
  }
}
const reasons = new Map();
for (const name of skipped) {
  const match = /skipped: (.*?)\)?$/.exec(name);
  const reason = match ? match[1] : name;
  reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
}
if (reasons.size) {
  console.log('skipped tests, by reason:');
  for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${count} × ${reason}`);
}
console.log(
  `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped`,
);
process.exitCode = results.numFailedTests > 0 || !results.success ? 1 : 0;
