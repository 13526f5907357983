// The testbed's network and CPU limits, made from real parts: network namespaces joined by veth
// pairs on a bridge, links shaped by tc (tbf), and a cgroup CPU quota per volunteer. Everything it
// makes is named `grtb-<pid>-...` after the process that made it, so a later run can tell the
// leftovers of a crashed run (its pid is gone) from a run still going, and remove only those.
//
//   hub namespace: bridge br0 ── c  ═ veth ═ eth0  coordinator namespace (10.213.0.1): room server, trainer
//                            ├── v0 ═ veth ═ eth0  volunteer 0 namespace (10.213.0.10), cgroup quota
//                            └── v1 ═ ...
//
// The coordinator's link (its veth) is the shared link: volunteers' uploads leave the hub through `c`,
// the coordinator's sends leave through its eth0, each shaped by tbf where a rate is given. Each
// volunteer's own link is shaped the same way (up on its eth0, down on the hub's v<i>). Nothing
// touches the root namespace's interfaces; the private addresses exist only inside these namespaces.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PREFIX = 'grtb';
export const SUBNET = '10.213.0';
export const COORD_ADDR = `${SUBNET}.1`;
/** A bound on the loops below and on what one machine can sensibly emulate. */
export const MAX_VOLUNTEERS = 64;
const CG_V1 = '/sys/fs/cgroup/cpu';
const CG_V2 = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

function ip(args, { quiet = false } = {}) {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (e) {
    if (quiet) return '';
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr || e.message).toString().trim()}`);
  }
}

function tc(args) {
  try {
    execFileSync('tc', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (e) {
    throw new Error(`tc ${args.join(' ')}: ${(e.stderr || e.message).toString().trim()}`);
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Which cgroup interface gives a CPU quota here: v1's cpu controller, v2's cpu.max, or none. */
export function cgroupKind() {
  if (existsSync(join(CG_V1, 'cpu.cfs_quota_us'))) return 'v1';
  try {
    if (readFileSync(join(CG_V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return 'v2';
  } catch {}
  return 'none';
}

function cgroupRoot(kind) {
  return kind === 'v1' ? CG_V1 : CG_V2;
}

/**
 * Whether this process can build the testbed: root, `ip` and `tc`, and a namespace it can make and
 * remove. Returns the reason when it cannot, for the one line the testbed prints.
 */
export function probe() {
  if (process.platform !== 'linux')
    return { ok: false, reason: `needs Linux network namespaces (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return { ok: false, reason: 'needs root (network namespaces, tc, cgroups)' };
  for (const tool of ['ip', 'tc']) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore', timeout: 5000 });
    } catch {
      return { ok: false, reason: `needs the \`${tool}\` command (Debian package iproute2)` };
    }
  }
  const name = `${PREFIX}-${process.pid}-probe`;
  try {
    ip(['netns', 'add', name]);
  } catch (e) {
    return { ok: false, reason: `cannot make a network namespace: ${e.message}` };
  }
  // every other part the testbed uses, inside the probe's own namespace: a bridge, a veth pair, tbf
  try {
    ip(['-n', name, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
    ip(['-n', name, 'link', 'add', 'name', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    tc([
      '-n',
      name,
      'qdisc',
      'add',
      'dev',
      'va',
      'root',
      'tbf',
      'rate',
      '10mbit',
      'burst',
      '16384',
      'latency',
      '200ms',
    ]);
  } catch (e) {
    return { ok: false, reason: `cannot build links here: ${e.message}` };
  } finally {
    ip(['netns', 'del', name], { quiet: true });
  }
  return { ok: true, cgroup: cgroupKind() };
}

function ours(name) {
  const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
  return m ? Number(m[1]) : null;
}

function killProcs(pids) {
  for (const pid of pids) {
    if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
}

function namespaces() {
  return ip(['netns', 'list'], { quiet: true })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n?.startsWith(`${PREFIX}-`));
}

function removeNamespace(name) {
  // processes left inside (a crashed run's volunteers) keep a deleted namespace alive: end them first
  killProcs(
    ip(['netns', 'pids', name], { quiet: true })
      .split('\n')
      .map(Number)
      .filter((p) => p > 0),
  );
  ip(['netns', 'del', name], { quiet: true });
}

function removeCgroup(path) {
  for (let attempt = 0; attempt < 50 && existsSync(path); attempt++) {
    try {
      killProcs(
        readFileSync(join(path, 'cgroup.procs'), 'utf8')
          .split('\n')
          .map(Number)
          .filter((p) => p > 0),
      );
      rmdirSync(path);
    } catch {
      // killed processes take a moment to leave the cgroup
      execFileSync('sleep', ['0.05']);
    }
  }
}

function cgroupsOf(filter) {
  const out = [];
  for (const kind of ['v1', 'v2']) {
    const root = cgroupRoot(kind);
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root)) if (d.startsWith(`${PREFIX}-`) && filter(d)) out.push(join(root, d));
  }
  return out;
}

/** Removes what earlier runs left behind (their pid is gone), never what a live run is using. */
export function removeLeftovers() {
  const stale = (n) => {
    const pid = ours(n);
    return pid !== null && !alive(pid);
  };
  const removed = [];
  for (const ns of namespaces().filter(stale)) {
    removeNamespace(ns);
    removed.push(ns);
  }
  for (const cg of cgroupsOf(stale)) {
    removeCgroup(cg);
    removed.push(cg);
  }
  for (const d of tempDirsOf(stale)) {
    rmSync(d, { recursive: true, force: true });
    removed.push(d);
  }
  return removed;
}

/**
 * A temporary folder for the Chromium tabs of this run (their TMPDIR): playwright makes each
 * browser's profile there and removes it only when the browser closes, which a tab the run ends
 * with SIGKILL never does. The run removes the folder, and with it whatever the tabs left.
 */
export function tabTempDir() {
  return mkdtempSync(join(tmpdir(), `${PREFIX}-${process.pid}-tabs-`));
}

function tempDirsOf(filter) {
  return readdirSync(tmpdir())
    .filter((d) => d.startsWith(`${PREFIX}-`) && filter(d))
    .map((d) => join(tmpdir(), d));
}

/** Namespaces and cgroups this process made that still exist (for the tests' "nothing left"). */
export function remnants(pid = process.pid) {
  const mine = (n) => ours(n) === pid;
  return [...namespaces().filter(mine), ...cgroupsOf(mine), ...tempDirsOf(mine)];
}

function tbf(ns, dev, mbit) {
  const bytesPerSec = (mbit * 1e6) / 8;
  // burst: a few ms at the rate (and at least a few packets), so tbf can keep up at high rates
  const burst = Math.max(16 * 1024, Math.round(bytesPerSec / 200));
  tc([
    '-n',
    ns,
    'qdisc',
    'replace',
    'dev',
    dev,
    'root',
    'tbf',
    'rate',
    `${mbit}mbit`,
    'burst',
    `${burst}`,
    'latency',
    '200ms',
  ]);
}

/**
 * Builds the namespaces, links and cgroups for one run. `shape` in Mbit/s and CPUs (undefined = no
 * limit): coordUp (coordinator -> volunteers, the shared link's down direction), coordDown
 * (volunteers -> coordinator), volUp, volDown (each volunteer's own link), cpu (each volunteer's
 * share of one CPU), hostCpu (the coordinator's: its whole process, worker thread included, goes
 * into cgroup `coordCgroup`). Returns the names and addresses, and remove() that undoes everything.
 */
export function buildTestbed(volunteers, shape = {}) {
  // 0: the coordinator alone (the host's laptop with no room)
  if (!Number.isInteger(volunteers) || volunteers < 0 || volunteers > MAX_VOLUNTEERS) {
    throw new Error(`volunteers must be an integer from 0 to ${MAX_VOLUNTEERS}, got ${volunteers}`);
  }
  const base = `${PREFIX}-${process.pid}`;
  const hub = `${base}-hub`;
  const coord = `${base}-c`;
  const made = { namespaces: [], cgroups: [] };
  const tb = {
    hub,
    coord,
    coordAddr: COORD_ADDR,
    coordCgroup: null,
    volunteers: [],
    cgroup: 'none',
    remove() {
      for (const ns of made.namespaces.reverse()) removeNamespace(ns);
      for (const cg of made.cgroups) removeCgroup(cg);
      made.namespaces = [];
      made.cgroups = [];
    },
  };
  try {
    const addNs = (name) => {
      ip(['netns', 'add', name]);
      made.namespaces.push(name);
      ip(['-n', name, 'link', 'set', 'lo', 'up']);
    };
    addNs(hub);
    ip(['-n', hub, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
    ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    // one veth from the hub's bridge into `ns`, where it is eth0 with `addr`
    const attach = (ns, hubSide, addr) => {
      addNs(ns);
      ip(['-n', hub, 'link', 'add', 'name', hubSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', hub, 'link', 'set', hubSide, 'master', 'br0', 'up']);
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    };
    attach(coord, 'c', COORD_ADDR);
    if (shape.coordUp) tbf(coord, 'eth0', shape.coordUp);
    if (shape.coordDown) tbf(hub, 'c', shape.coordDown);

    const kind = shape.cpu || shape.hostCpu ? cgroupKind() : 'none';
    if (kind === 'none' && (shape.cpu || shape.hostCpu))
      throw new Error('no cgroup cpu controller here for a CPU quota');
    tb.cgroup = kind;
    if (kind === 'v2') {
      // the root's children get the cpu controller only when the root hands it down
      writeFileSync(join(CG_V2, 'cgroup.subtree_control'), '+cpu');
    }
    const quotaGroup = (name, cpu) => {
      const path = join(cgroupRoot(kind), name);
      mkdirSync(path);
      made.cgroups.push(path);
      const quota = Math.max(1000, Math.round(cpu * PERIOD_US));
      if (kind === 'v1') {
        writeFileSync(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
        writeFileSync(join(path, 'cpu.cfs_quota_us'), String(quota));
      } else {
        writeFileSync(join(path, 'cpu.max'), `${quota} ${PERIOD_US}`);
      }
      return path;
    };
    if (shape.hostCpu) tb.coordCgroup = quotaGroup(`${base}-c`, shape.hostCpu);
    for (let i = 0; i < volunteers; i++) {
      const ns = `${base}-v${i}`;
      const addr = `${SUBNET}.${10 + i}`;
      attach(ns, `v${i}`, addr);
      if (shape.volUp) tbf(ns, 'eth0', shape.volUp);
      if (shape.volDown) tbf(hub, `v${i}`, shape.volDown);
      // the first shape.slow volunteers are older laptops (shapeOf's slowCpu)
      const cpu = i < (shape.slow ?? 0) ? shape.slowCpu : shape.cpu;
      const cgroup = cpu ? quotaGroup(`${base}-v${i}`, cpu) : null;
      tb.volunteers.push({ ns, addr, cgroup });
    }
    return tb;
  } catch (e) {
    tb.remove();
    throw e;
  }
}

/** Bytes through an interface of a namespace, as the kernel counts them (headers included). */
export function linkBytes(ns, dev) {
  const j = JSON.parse(ip(['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]));
  const s = j[0]?.stats64 ?? {};
  return { rx: s.rx?.bytes ?? 0, tx: s.tx?.bytes ?? 0 };
}

/** What the tbf shaper on a link did: bytes and packets sent, packets dropped, times it held one back. */
export function qdiscStats(ns, dev) {
  try {
    const out = execFileSync('tc', ['-n', ns, '-s', '-j', 'qdisc', 'show', 'dev', dev], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const q = JSON.parse(out).find((x) => x.kind === 'tbf');
    return q ? { bytes: q.bytes, packets: q.packets, drops: q.drops, overlimits: q.overlimits } : null;
  } catch {
    return null;
  }
}
