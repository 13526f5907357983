export * from './codec.js';
export * from './framing.js';
export * from './mapping.js';
export * from './messages.js';
export * from './validate.js';
