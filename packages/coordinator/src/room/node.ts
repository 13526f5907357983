/** Node conveniences for rooms: `ws` as the WebSocket, simple-peer with @roamhq/wrtc. */
import { createRequire } from 'node:module';
import {
  GradroomError,
  type SimplePeerCtor,
  type TaskSpec,
  type TensorShape,
  type WebSocketCtor,
} from '@gradroom/core';
import { WebSocket } from 'ws';
import { RoomHost, type RoomHostOptions } from './host.js';

const require = createRequire(import.meta.url);

/** WebSocket, SimplePeer and wrtc for Node. */
export function nodeRtc(): { WebSocket: WebSocketCtor; SimplePeer: SimplePeerCtor; wrtc: unknown } {
  return {
    WebSocket: WebSocket as unknown as WebSocketCtor,
    SimplePeer: require('simple-peer') as SimplePeerCtor,
    wrtc: nodeWebRtc(),
  };
}

/**
 * WebRTC for Node: @roamhq/wrtc, an optional peer dependency (26 MB of native code a browser app
 * should not install), so its absence is said in words.
 */
function nodeWebRtc(): unknown {
  try {
    return require('@roamhq/wrtc');
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    throw new GradroomError(
      'BAD_CONFIG',
      'hosting a room from Node needs WebRTC for Node: npm install @roamhq/wrtc@0.10.0 (an optional peer dependency of @gradroom/coordinator)',
    );
  }
}

/** The layout of a task's model, built once here with tfjs (loaded only when first needed). */
export async function buildLayout(task: TaskSpec): Promise<TensorShape[]> {
  const { buildModel, modelLayout } = await import('@gradroom/worker');
  const model = await buildModel(task.model);
  try {
    return modelLayout(model);
  } finally {
    model.dispose();
  }
}

/** Hosts a room from Node: RoomHost.open with Node's WebSocket and WebRTC. */
export function hostRoom(opts: Omit<RoomHostOptions, 'WebSocket' | 'SimplePeer' | 'wrtc'>): Promise<RoomHost> {
  return RoomHost.open({ ...nodeRtc(), layoutFor: buildLayout, ...opts });
}
