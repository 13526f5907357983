/**
 * The data set a job names: in mode local, the chunked form of a built-in data set where the demo
 * serves one (apps/demo/build.mjs copies it to dist/data/chunks/ and puts its spec here at build
 * time), so each student's tab fetches only its partition's chunks; otherwise the whole file.
 */
import type { DatasetSpec } from '@gradroom/core';

declare const __GRADROOM_CHUNKS__: Record<string, DatasetSpec> | undefined;

export function jobDataset(kind: 'mnist' | 'fashion-mnist-small', local: boolean): DatasetSpec {
  const chunked = local && typeof __GRADROOM_CHUNKS__ !== 'undefined' ? __GRADROOM_CHUNKS__[kind] : undefined;
  return chunked ?? { kind, split: 'train' };
}
