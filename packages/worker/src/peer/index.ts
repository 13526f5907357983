export * from './browser.js';
export * from './channel.js';
export * from './rtc.js';
export * from './signal.js';
export * from './signal-check.js';
export * from './volunteer.js';
