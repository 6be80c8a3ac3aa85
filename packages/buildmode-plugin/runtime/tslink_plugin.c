/* tslink's plugin runtime (see tslink_plugin.h). Thread-safe: one lock serializes opens. */
#include "tslink_plugin.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tslink_plugin {
  const tslink_module *module;
  void *handle;
  tslink_plugin *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tslink_plugin *loaded;
static const tslink_module *registering;
static int registrations;
static char message[512];

void tslink_plugin_register(const tslink_module *m) {
  /* Runs inside dlopen, with `lock` held by tslink_plugin_open. */
  registering = m;
  registrations++;
}

tslink_plugin *tslink_plugin_open(const char *path, const char **err) {
  pthread_mutex_lock(&lock);
  registering = NULL;
  registrations = 0;
  /* RTLD_LOCAL: plugins bind to the host's symbols, never to each other's. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(message, sizeof message, "plugin.Open(%s): %s", path, dlerror());
    goto fail;
  }
  if (registrations == 0) {
    /* Already loaded (dlopen did not run its initializer again), or not a tslink plugin. */
    for (tslink_plugin *p = loaded; p != NULL; p = p->next) {
      if (p->handle == h) {
        snprintf(message, sizeof message, "plugin.Open(%s): plugin already loaded", path);
        dlclose(h);
        goto fail;
      }
    }
    snprintf(message, sizeof message, "plugin.Open(%s): not a plugin (no module registered)", path);
    dlclose(h);
    goto fail;
  }
  for (tslink_plugin *p = loaded; p != NULL; p = p->next) {
    if (strcmp(p->module->path, registering->path) == 0) {
      snprintf(message, sizeof message, "plugin.Open(%s): plugin already loaded", path);
      goto fail; /* the second copy stays mapped, as Go's runtime leaves it */
    }
  }
  tslink_plugin *p = malloc(sizeof *p);
  if (p == NULL) {
    snprintf(message, sizeof message, "plugin.Open(%s): out of memory", path);
    goto fail;
  }
  p->module = registering;
  p->handle = h;
  p->next = loaded;
  loaded = p;
  pthread_mutex_unlock(&lock);
  return p;
fail:
  pthread_mutex_unlock(&lock);
  if (err != NULL) *err = message;
  return NULL;
}

void *tslink_plugin_lookup(tslink_plugin *p, const char *name) {
  size_t lo = 0, hi = p->module->nexports;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(p->module->exports[mid].name, name);
    if (c == 0) return p->module->exports[mid].addr;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

const char *tslink_plugin_path(tslink_plugin *p) { return p->module->path; }
