#!/usr/bin/env node
// A volunteer peer in its own process, for the room tests: joins a room over real WebRTC
// (simple-peer + @roamhq/wrtc) or the server's relay, and computes with an in-process ShardWorker.
// Usage: node peer.mjs '{"url":"ws://...","token":"...","name":"a","relay":"auto","crashAtAssign":0}'
import { ShardWorker } from '@gradroom/worker';
import { readPackedFile } from '@gradroom/worker/node-thread';
import { joinRoom } from '@gradroom/worker/peer';
import { nodeRtc } from '../../dist/room/node.js';

const o = JSON.parse(process.argv[2]);
const engine = new ShardWorker(readPackedFile);
let assigns = 0;
const compute = engine.compute.bind(engine);
engine.compute = async (req) => {
  assigns++;
  // a crash mid-iteration: the shard was handed out and is never answered
  if (o.crashAtAssign && assigns === o.crashAtAssign) {
    console.log('PEER crashing');
    process.exit(3);
  }
  // a peer that stops answering mid-iteration (a frozen tab, a laptop lid closed): no crash, no
  // closed socket, just silence; the test kills it afterwards
  if (o.freezeAtAssign && assigns === o.freezeAtAssign) {
    console.log('PEER freezing');
    process.kill(process.pid, 'SIGSTOP');
  }
  return compute(req);
};
const say = (line) => console.log(`PEER ${o.name} ${line}`);
try {
  const v = await joinRoom({
    ...nodeRtc(),
    url: o.url,
    token: o.token,
    name: o.name,
    engine,
    backends: [o.backend ?? 'wasm'],
    relay: o.relay ?? 'auto',
    connectTimeoutMs: o.connectTimeoutMs ?? 8000,
    log: say,
  });
  say(`connected via ${v.status.via}`);
  const reason = await v.done;
  say(`done: ${reason} (examples ${v.status.examples}, shards ${v.status.shards})`);
  process.exit(0);
} catch (e) {
  say(`failed: ${e.message}`);
  process.exit(2);
}
