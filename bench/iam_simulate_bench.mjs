// Benchmark comparator: evaluates the bench/policy_eval.py workload with @cloud-copilot/iam-simulate.
// Driven by bench/compare_iam_simulate.py, which exports the workload as JSON and installs the
// package (AGPL; used only as an external comparator, never vendored) under bench/.node/.
//
//     node bench/iam_simulate_bench.mjs <workload.json> <seconds>
//
// Prints one JSON object: per-request decisions (from the public runSimulation API) and
// evaluations/s for runSimulation (validates and parses the policies on every call — the only
// way its public API takes them) and runUnsafeSimulation (skips validation, synchronous).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'

const [workloadPath, secondsArg] = process.argv.slice(2)
const seconds = Number(secondsArg ?? '3')
const workload = JSON.parse(readFileSync(workloadPath, 'utf8'))

// resolve the package from the cache dir given by the driver (NODE_PATH is ignored by ESM)
const require = createRequire(process.env.IAM_SIMULATE_PREFIX + '/package.json')
const { runSimulation, runUnsafeSimulation } = require('@cloud-copilot/iam-simulate')
const pkgVersion = JSON.parse(
  readFileSync(
    require.resolve('@cloud-copilot/iam-simulate').replace(/dist\/cjs\/index\.js$/, 'package.json'),
    'utf8'
  )
).version

const identityPolicies = workload.identity.map((policy, i) => ({ name: `policy-${i}`, policy }))
const permissionBoundaryPolicies = [{ name: 'boundary', policy: workload.boundary }]
const serviceControlPolicies = workload.scps.map((docs, level) => ({
  orgIdentifier: level === workload.scps.length - 1 ? workload.account : `ou-level-${level}`,
  policies: docs.map((policy, i) => ({ name: `scp-${level}-${i}`, policy }))
}))

const simulations = workload.requests.map((r) => ({
  request: {
    principal: r.principal,
    action: r.action,
    resource: { resource: r.resource, accountId: r.accountId },
    contextVariables: r.context
  },
  identityPolicies,
  serviceControlPolicies,
  resourceControlPolicies: [],
  permissionBoundaryPolicies
}))

const decisions = []
for (const sim of simulations) {
  const res = await runSimulation(sim, {})
  if (res.resultType === 'error') {
    decisions.push({ decision: 'error', detail: res.errors })
  } else {
    decisions.push({
      decision: res.overallResult,
      resultType: res.resultType,
      ignoredContextKeys: res.resultType === 'single' ? res.result.ignoredContextKeys : undefined
    })
  }
}
const unsafeDecisions = simulations.map((sim) => runUnsafeSimulation(sim, {}))

// same method as policy_eval.py: rounds of 100 ms over `seconds`, at least 5; best and median
async function measure(body) {
  await body() // warm-up
  const rates = []
  const deadline = performance.now() + seconds * 1000
  while (performance.now() < deadline || rates.length < 5) {
    let count = 0
    const start = performance.now()
    let elapsed
    while ((elapsed = (performance.now() - start) / 1000) < 0.1) {
      await body()
      count += simulations.length
    }
    rates.push(count / elapsed)
  }
  rates.sort((a, b) => a - b)
  return { best: rates[rates.length - 1], median: rates[Math.floor(rates.length / 2)] }
}

const safe = await measure(async () => {
  for (const sim of simulations) await runSimulation(sim, {})
})
const unsafe = await measure(() => {
  for (const sim of simulations) runUnsafeSimulation(sim, {})
})

console.log(
  JSON.stringify({
    version: pkgVersion,
    node: process.version,
    decisions,
    unsafeDecisions,
    runSimulation: safe,
    runUnsafeSimulation: unsafe
  })
)
