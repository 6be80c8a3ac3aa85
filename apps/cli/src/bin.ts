// The `tslink` executable: everything lives in main.ts so tests can call it in-process.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // main() reports LinkErrors itself; anything reaching here is an internal bug.
    process.stderr.write(
      `tslink: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
