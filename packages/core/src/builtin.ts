import { createRequire } from 'node:module';

// Any absolute path works as the base: only Node's built-in modules are loaded through it.
const requireBuiltin = createRequire(process.execPath);

/**
 * Loads a Node built-in module on first use. `node:child_process` and `node:crypto` pull in
 * streams, sockets and more: a few milliseconds at every start of a program that is started
 * thousands of times in a build, wasted by the links that never spawn or hash.
 */
export function builtin<T>(name: `node:${string}`): T {
  return requireBuiltin(name) as T;
}
