/**
 * The data set a job names: the chunked form of a built-in data set where the demo serves one
 * (apps/demo/build.mjs copies it to dist/data/chunks/ and puts its spec here at build time);
 * otherwise the whole file. In mode local each student's tab fetches only its partition's chunks;
 * in exact mode the host sends each student's tab the examples of its shards (the coordinator
 * worker's shardExamples), and the tab fetches no chunk at all.
 */
import type { DatasetSpec } from '@gradroom/core';

declare const __GRADROOM_CHUNKS__: Record<string, DatasetSpec> | undefined;

export function jobDataset(kind: 'mnist' | 'fashion-mnist-small'): DatasetSpec {
  const chunked = typeof __GRADROOM_CHUNKS__ !== 'undefined' ? __GRADROOM_CHUNKS__[kind] : undefined;
  return chunked ?? { kind, split: 'train' };
}
