/** Node conveniences for rooms: `ws` as the WebSocket, simple-peer with @roamhq/wrtc. */
import { createRequire } from 'node:module';
import type { SimplePeerCtor, TaskSpec, TensorShape, WebSocketCtor } from '@gradroom/core';
import { WebSocket } from 'ws';
import { RoomHost, type RoomHostOptions } from './host.js';

const require = createRequire(import.meta.url);

/** WebSocket, SimplePeer and wrtc for Node. */
export function nodeRtc(): { WebSocket: WebSocketCtor; SimplePeer: SimplePeerCtor; wrtc: unknown } {
  return {
    WebSocket: WebSocket as unknown as WebSocketCtor,
    SimplePeer: require('simple-peer') as SimplePeerCtor,
    wrtc: require('@roamhq/wrtc'),
  };
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
