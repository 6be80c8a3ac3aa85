/*
 * tslink's plugin runtime: a host opens plugins linked with `tslink --buildmode=plugin` and looks
 * up their exports by name. Each plugin registers itself from an .init_array entry the linker
 * synthesizes, passing its module descriptor (below) to tslink_plugin_register, which the plugin
 * imports weakly: in a host without this runtime, a plain dlopen still works.
 */
#ifndef TSLINK_PLUGIN_H
#define TSLINK_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One export: its name and address, sorted by name in the table. */
typedef struct tslink_export {
  const char *name;
  void *addr;
} tslink_export;

/* The module descriptor the linker lays out in the plugin (read-only after relocation). */
typedef struct tslink_module {
  const char *path; /* --pluginpath */
  const tslink_export *exports;
  size_t nexports;
  const char *text_start, *text_end;
  const char *rodata_start, *rodata_end;
  const char *data_start, *data_end;
  const char *bss_start, *bss_end;
} tslink_module;

typedef struct tslink_plugin tslink_plugin;

/* Opens the plugin at `path`; on failure returns NULL and sets *err to a static message. */
tslink_plugin *tslink_plugin_open(const char *path, const char **err);

/* The address of export `name`, or NULL. */
void *tslink_plugin_lookup(tslink_plugin *p, const char *name);

/* The plugin's path as recorded by the linker (--pluginpath). */
const char *tslink_plugin_path(tslink_plugin *p);

/* Called by a plugin's initializer while it is being loaded. */
void tslink_plugin_register(const tslink_module *m);

#ifdef __cplusplus
}
#endif
#endif
