/** The three packages, in the order packPackages returns their tarballs. */
export declare const PACKAGES: string[];
/** Packs @gradroom/core, worker and coordinator into `dest`; returns the tarball paths. */
export declare function packPackages(dest: string): string[];
/** npm install of the tarballs into `project` (which has a package.json), without saving them. */
export declare function installTarballs(project: string, tarballs: string[]): void;
