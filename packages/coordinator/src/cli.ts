#!/usr/bin/env node
/** The `gradroom` command: `gradroom train|predict|evaluate|serve ...`. */
import { exitCode, reportError, TRAIN_HELP, trainCommand } from './cli/train.js';

const HELP = `gradroom: distributed mini-batch training in the browser

  gradroom train [flags]   train on local worker threads (gradroom train --help)
  gradroom predict --model DIR --input FILE.csv|FILE.png   what a saved model predicts
  gradroom evaluate --model DIR [--dataset ...]            a saved model's test loss and accuracy
  gradroom pack-data (--csv FILE | --images DIR) --out FILE.bin   pack your data for a data set URL
  gradroom serve [flags]   run a room server: the web app, rooms and signalling (gradroom serve --help)
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'train') return trainCommand(rest);
  if (cmd === 'predict') {
    const { predictCommand } = await import('./cli/predict.js');
    return predictCommand(rest);
  }
  if (cmd === 'evaluate') {
    const { evaluateCommand } = await import('./cli/evaluate.js');
    return evaluateCommand(rest);
  }
  if (cmd === 'pack-data') return (await import('./cli/pack-data.js')).packDataCommand(rest);
  if (cmd === 'serve') {
    const { serveCommand } = await import('./cli/serve.js');
    await serveCommand(rest);
    return 0;
  }
  process.stdout.write(cmd === undefined || cmd === '--help' || cmd === 'help' ? `${HELP}\n${TRAIN_HELP}` : HELP);
  return cmd === undefined || cmd === '--help' || cmd === 'help' ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(reportError(e));
    if (process.env.GRADROOM_DEBUG && e instanceof Error) console.error(e.stack);
    process.exit(exitCode(e));
  },
);
