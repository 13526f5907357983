// gradroom's Web Worker: Vite bundles it (and tfjs) as a module worker of its own.
import '@gradroom/worker/web-worker';
