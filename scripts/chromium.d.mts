import type { Browser, LaunchOptions } from 'playwright-core';

export declare const CHROMIUM_PATH: string;
export declare const CHROMIUM_ARGS: string[];
export declare function hasChromium(): boolean;
export declare function launchChromium(opts?: { args?: string[] } & Omit<LaunchOptions, 'args'>): Promise<Browser>;
