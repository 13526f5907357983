/**
 * Rooms in real Chromium: volunteer tabs in two browser processes (Debian's Chromium through
 * playwright-core, --enable-unsafe-webgpu) open the demo's volunteer page from the room server and
 * join a room hosted by a Node coordinator over real WebRTC. One tab runs webgpu (SwiftShader), the
 * others wasm. Mid-run one tab is closed as it is handed a shard and a new tab joins; the final
 * weights equal the plain serial loop's on MNIST.
 *
 * Needs `npm run build` and Chromium (`node scripts/bootstrap.mjs --browser`); GRADROOM_SKIP_BROWSER=1 skips.
 */
import type { VolunteerStatus } from '@gradroom/worker/peer';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hostRoom } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { Trainer } from '../../src/trainer.js';
import type { WorkerHandle } from '../../src/worker-handle.js';
import { DEMO_DIST, hasChromium, hasDemoBuild, launchChromium, screenshot } from '../browser/chromium.js';
import { relativeDifference } from '../reference/serial.js';
import { mnistJob, mnistReference, until } from './helpers.js';

const ITERATIONS = 12;
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';

type Status = VolunteerStatus | null;
const statusOf = (p: Page): Promise<Status> =>
  p.evaluate(() => (window as unknown as { gradroomVolunteer: { status(): Status } }).gradroomVolunteer.status());

describe.skipIf(skip)('a room of Chromium volunteer tabs', () => {
  let server: RoomServer;
  let reference: Float32Array;
  const browsers: Browser[] = [];
  const serverLog: string[] = [];
  const pageLogs: string[] = [];

  beforeAll(async () => {
    if (!hasChromium()) throw new Error('Chromium is missing: run node scripts/bootstrap.mjs --browser');
    if (!hasDemoBuild()) throw new Error('apps/demo/dist is not built: run npm run build');
    server = await RoomServer.start({ port: 0, dist: DEMO_DIST, log: (l) => serverLog.push(l) });
    const [ref, a, b] = await Promise.all([mnistReference(ITERATIONS, 5), launchChromium(), launchChromium()]);
    reference = ref;
    browsers.push(a, b);
  });

  afterAll(async () => {
    await Promise.all(browsers.map((b) => b.close()));
    await server?.close();
  });

  async function tab(browser: Browser, token: string, name: string, backend: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (m) => pageLogs.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => pageLogs.push(`[${name} pageerror] ${e.message}`));
    await page.goto(`${server.url}/volunteer.html?backend=${backend}&name=${name}#room=${token}`);
    return page;
  }

  it('three tabs in two browsers (one on webgpu) train MNIST; one closes mid-run, a new one joins; weights equal the serial loop', {
    timeout: 180_000,
  }, async () => {
    const room = server.createRoom();
    // every tab takes part ('all'), so the close and the late join meet a shard whatever the planner prefers
    const trainer = new Trainer(mnistJob(ITERATIONS, 5), { waitForWorkers: true, planning: 'all' });
    const hostLog: string[] = [];
    const [a, b] = browsers;
    const pages = new Map<string, Page>();
    let leaving: Page | undefined;
    let closedAt = -1;
    let replanned = 0;
    let iteration = 0;
    const joinedLate: Page[] = [];
    // the wasm tab in browser A is closed just as it is handed its 3rd shard, and a new tab joins
    const wrap = (h: WorkerHandle, name: string): WorkerHandle => {
      let calls = 0;
      return {
        ...h,
        closed: h.closed,
        compute: async (req) => {
          if (name === 'wasm-a' && ++calls === 3) {
            closedAt = iteration;
            await leaving?.close();
            joinedLate.push(await tab(b, room.token, 'late', 'wasm'));
            // the new tab is set up while this iteration goes on; it takes shards from the next one
            await until(
              () =>
                [...trainer.pool.members.values()].some(
                  (m) => names.get(m.handle.id) === 'late' && m.state === 'ready',
                ),
              30_000,
              'the late tab set up',
            );
          }
          return h.compute(req);
        },
      };
    };
    const names = new Map<string, string>();
    const host = await hostRoom({
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      log: (l) => hostLog.push(l),
      trainer,
      wrapHandle: (h, name) => {
        names.set(h.id, name);
        return wrap(h, name);
      },
    });
    const accepted: { id: string; via?: string }[] = [];
    host.on('peer', (e) => {
      if (e.type === 'accepted') accepted.push(e);
    });
    onTestFailed(() => {
      console.error(['server:', ...serverLog, 'host:', ...hostLog, 'pages:', ...pageLogs].join('\n'));
    });
    trainer.on('iteration', (e) => {
      if (process.env.GRADROOM_DEBUG) {
        console.log(
          e.iteration,
          e.replanned,
          e.workers.map((w) => `${names.get(w.id)}:${w.share.toFixed(2)}:${w.status}`).join(' '),
        );
      }
      iteration = e.iteration;
      replanned += e.replanned;
    });

    const gpu = await tab(a, room.token, 'webgpu-a', 'webgpu');
    leaving = await tab(a, room.token, 'wasm-a', 'wasm');
    const other = await tab(b, room.token, 'wasm-b', 'wasm');
    pages.set('webgpu-a', gpu).set('wasm-b', other);
    await until(() => accepted.length === 3, 60_000, 'three tabs accepted');
    expect(accepted.every((e) => e.via === 'direct')).toBe(true);
    // a room starts a second after its first member is set up; this test is about every tab training
    // (the webgpu tab on SwiftShader sets up slowly on a loaded machine), so it starts with all three
    await until(
      () => [...trainer.pool.members.values()].filter((m) => m.state === 'ready').length === 3,
      90_000,
      'three tabs set up',
    );

    const t0 = performance.now();
    const result = await trainer.run();
    const seconds = (performance.now() - t0) / 1000;

    expect(closedAt).toBeGreaterThanOrEqual(0);
    expect(closedAt).toBeLessThan(ITERATIONS);
    expect(replanned).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBe(4);
    expect(result.position.iteration).toBe(ITERATIONS);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);

    // A slow tab on a loaded machine may lose the room mid-run and join again by itself (the run
    // stays exact, as checked above); its page then has a fresh session, so read the backend once it
    // is set up again, and the examples from the page's totals, which span its sessions.
    const backendOf = async (p: Page): Promise<string> => {
      let backend = '';
      await until(
        async () => {
          backend = (await statusOf(p))?.backend ?? '';
          return backend !== '';
        },
        30_000,
        'a tab set up on its backend',
      );
      return backend;
    };
    const totalsOf = (p: Page): Promise<{ examples: number }> =>
      p.evaluate(() =>
        (window as unknown as { gradroomVolunteer: { totals(): { examples: number } } }).gradroomVolunteer.totals(),
      );
    const [late] = joinedLate;
    if (process.env.GRADROOM_DEBUG) console.log(await statusOf(gpu), await statusOf(late));
    expect(await backendOf(gpu)).toBe('webgpu');
    expect((await totalsOf(gpu)).examples).toBeGreaterThan(0);
    expect(await backendOf(late)).toBe('wasm');
    expect((await totalsOf(late)).examples).toBeGreaterThan(0);
    await screenshot(gpu, 'room-volunteer-webgpu');
    if (process.env.GRADROOM_DEBUG) console.log(`room run: ${seconds.toFixed(1)} s`);

    host.close();
    await until(() => serverLog.filter((l) => /\(late\).* left/.test(l)).length === 1, 10_000, 'tabs told to leave');
  });
});
