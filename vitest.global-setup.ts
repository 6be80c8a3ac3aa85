// Runs once before all projects: rebuilds the CLI as `pnpm build` does (bundle, code cache and
// startup snapshot, ~2 s) so tests that run apps/cli/libexec/{tslink,ld,ld.tslink} always exercise
// the current source, the way users run it, even without `pnpm build`. Failure is reported, not fatal: unit tests import the packages from
// source and do not need the bundle.
export default async function setup(): Promise<void> {
  try {
    const script = new URL('./apps/cli/build.mjs', import.meta.url).href;
    const { run } = (await import(script)) as { run: () => Promise<void> };
    await run();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    console.warn(
      `vitest.global-setup: could not bundle the CLI, its end-to-end tests will fail:\n${why}`,
    );
  }
}
