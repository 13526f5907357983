export * from './codec.js';
export * from './framing.js';
export * from './mapping.js';
export * from './messages.js';
export { checkPacked, packFloats, unpackFloats } from './packed-floats.js';
export * from './validate.js';
