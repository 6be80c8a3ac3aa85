// Runs once before all projects: re-bundles the CLI (apps/cli/dist/tslink.cjs, ~0.1 s with esbuild)
// so tests that run apps/cli/libexec/{tslink,ld,ld.tslink} always exercise the current source,
// even without `pnpm build`. Failure is reported, not fatal: unit tests import the packages from
// source and do not need the bundle.
export default async function setup(): Promise<void> {
  try {
    const script = new URL('./apps/cli/build.mjs', import.meta.url).href;
    const { buildBundle } = (await import(script)) as { buildBundle: () => Promise<number> };
    await buildBundle();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    console.warn(
      `vitest.global-setup: could not bundle the CLI, its end-to-end tests will fail:\n${why}`,
    );
  }
}
