/**
 * "What the model learned" on the host page: the panel of test digits with the model's answers, the
 * confusion matrix, and the draw pad the current weights classify when the pen lifts.
 */
import { datasetName, FASHION_MNIST_CLASSES } from '@gradroom/worker/catalog';
import * as Comlink from 'comlink';
import type { HostEvent } from '../coordinator-worker/protocol.js';
import { byId } from '../ui/dom.js';
import type { HostContext } from './context.js';
import { drawPad, renderConfusion, renderPanel } from './learned.js';

type Panel = Extract<HostEvent, { type: 'predictions' }>['panel'];

export interface LearnedPanel {
  showPredictions(epoch: number | string, panel: Panel): void;
  showConfusion(matrix: number[][]): void;
  /** A new run: the last run's matrix goes. */
  reset(): void;
  predictions(): Panel | null;
  confusion(): number[][] | null;
  /** The drawn digit's class probabilities, once classified. */
  drawing(): number[] | null;
}

export function learnedPanel(ctx: HostContext): LearnedPanel {
  let predictions: Panel | undefined;
  let confusion: number[][] | undefined;
  let drawn: number[] | undefined;

  function classNames(): readonly string[] {
    return datasetName(ctx.job.dataset).startsWith('fashion-mnist')
      ? FASHION_MNIST_CLASSES
      : ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  }

  const pad = drawPad(byId<HTMLCanvasElement>('draw-pad'), () => void classifyDrawing());
  async function classifyDrawing(): Promise<void> {
    const out = byId('draw-result');
    try {
      const p = await ctx.coordinator.classify(Comlink.transfer(pad.pixels(), []));
      drawn = p;
      const order = p.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]);
      const names = classNames();
      out.textContent = `Looks like ${names[order[0][1]]} (${Math.round(order[0][0] * 100)}%), then ${names[order[1][1]]} (${Math.round(order[1][0] * 100)}%).`;
    } catch (e) {
      out.textContent = (e as Error).message;
    }
  }
  byId('draw-clear').addEventListener('click', () => {
    pad.clear();
    drawn = undefined;
    byId('draw-result').textContent = 'The current weights classify it when you lift the pen.';
  });

  return {
    showPredictions(epoch, panel) {
      renderPanel(byId('panel'), epoch, panel, classNames());
      predictions = panel;
    },
    showConfusion(matrix) {
      renderConfusion(byId('confusion'), matrix, classNames());
      confusion = matrix;
    },
    reset() {
      byId('confusion').replaceChildren();
      confusion = undefined;
    },
    predictions: () => predictions ?? null,
    confusion: () => confusion ?? null,
    drawing: () => drawn ?? null,
  };
}
