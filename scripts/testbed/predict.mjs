#!/usr/bin/env node
// The cost model's predictions (core predictRoom) for rooms this machine cannot hold: 30 laptops on one
// classroom cell, 100 and 1,000 home volunteers, a coordinator at 1 Gbit/s. Prints a markdown table
// and the assumptions behind it (the README's section on the cost model shows this output).
// Usage: node scripts/testbed/predict.mjs [--json]   (needs npm run build)
import { predictRoom } from '../../packages/core/dist/index.js';

const PARAMETERS = 101_770; // MLP 784-128-10, the default job
// wire bytes per payload byte over WebRTC (headers, acks), as the testbed's kernel counters measured
const OVERHEAD = 1.15;
// A laptop's tab: Chromium's wasm backend ran this model's step on a mini-batch of 64 in 15 ms
// (PLATFORM.md), about 4,300 examples/s; 5 ms per shard for dispatch, encode and decode in the tab.
const laptop = { examplesPerSec: 4300, shardMs: 5 };

const scenarios = [
  {
    name: '30 laptops, one 139 Mbit/s classroom cell, coordinator wired at 1 Gbit/s',
    members: Array.from({ length: 30 }, () => ({ ...laptop, latencyMs: 2, via: 'cell' })),
    sharedLinks: { cell: { mbit: 139 } },
    coordinator: { upMbit: 1000, downMbit: 1000 },
  },
  {
    // the host's own tab computes too, through no link at all (a local Web Worker)
    name: "the same 30 laptops plus the host's own tab as a member (no link)",
    members: [
      { ...laptop, local: true },
      ...Array.from({ length: 30 }, () => ({ ...laptop, latencyMs: 2, via: 'cell' })),
    ],
    sharedLinks: { cell: { mbit: 139 } },
    coordinator: { upMbit: 1000, downMbit: 1000 },
  },
  {
    name: '100 home volunteers (10 Mbit/s up, 50 down, 20 ms), coordinator 1 Gbit/s',
    members: Array.from({ length: 100 }, () => ({ ...laptop, upMbit: 10, downMbit: 50, latencyMs: 20 })),
    coordinator: { upMbit: 1000, downMbit: 1000 },
  },
  {
    name: '1,000 home volunteers (10 Mbit/s up, 50 down, 20 ms), coordinator 1 Gbit/s',
    members: Array.from({ length: 1000 }, () => ({ ...laptop, upMbit: 10, downMbit: 50, latencyMs: 20 })),
    coordinator: { upMbit: 1000, downMbit: 1000 },
  },
];
const batches = [64, 1024, 8192];
const modes = [
  { label: 'exact', mode: { kind: 'exact' } },
  // as the shard runner does today: each member standing by gets a probe every 11th iteration
  // issue 9's modes through the model's extension point: predictions only, not yet measured
  { label: 'local H=50, int8 back (model only)', mode: { kind: 'local', steps: 50, compress: 'int8' } },
  // where topk pays: the same H, int8 both ways against topk back (the weights still int8 out)
  { label: 'local H=8, int8 both ways', mode: { kind: 'local', steps: 8, compress: 'int8', compressWeights: true } },
  {
    label: 'local H=8, topk back, int8 out',
    mode: { kind: 'local', steps: 8, compress: 'topk', compressWeights: true },
  },
];

const rows = [];
for (const s of scenarios) {
  for (const { label, mode, probeEvery, batches: only } of modes) {
    for (const batchSize of only ?? (mode.kind === 'exact' ? batches : [64])) {
      const p = predictRoom({ ...s, parameters: PARAMETERS, batchSize, mode, overhead: OVERHEAD, probeEvery });
      rows.push({
        scenario: s.name,
        mode: label,
        batchSize,
        examplesPerSec: p.examplesPerSec,
        vsOneAlone: p.examplesPerSec / p.fastestAloneExamplesPerSec,
        used: p.used,
        members: s.members.length,
        iterationMs: p.iterationMs,
        mbPerIteration: p.bytesPerIteration / 1e6,
        bottleneck: p.bottleneck,
      });
    }
  }
}

const assumptions = [
  `model: MLP 784-128-10, ${PARAMETERS} parameters (the default job); float32 weights, 407 kB a copy`,
  `a member: a laptop tab at ${laptop.examplesPerSec} examples/s (Chromium wasm, measured) and ${laptop.shardMs} ms per shard`,
  'wire bytes are 1.15 x payload (packet headers and acks; the testbed measured 1.15-1.17 over WebRTC)',
  'the classroom cell carries 139 Mbit/s in all (802.11ac, 30 devices); the coordinator is wired to its access point',
  "'vs one alone': against one member alone in the same room (its link to the coordinator included), same mini-batch and mode",
  ...predictRoom({ members: [laptop], parameters: PARAMETERS, batchSize: 64, overhead: OVERHEAD }).assumptions,
];

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ assumptions, rows }, null, 2));
} else {
  console.log(
    '| room | mode | mini-batch | examples/s | vs one alone | members used | ms / iteration | MB / iteration | bottleneck |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.mode} | ${r.batchSize} | ${Math.round(r.examplesPerSec).toLocaleString('en-US')} | ${r.vsOneAlone.toFixed(2)} | ${r.used} of ${r.members} | ${r.iterationMs.toFixed(1)} | ${r.mbPerIteration.toFixed(2)} | ${r.bottleneck} |`,
    );
  }
  console.log('\nAssumptions:');
  for (const a of assumptions) console.log(`- ${a}`);
}
