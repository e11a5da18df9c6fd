// greet-c: `greet-c NAME` says hello and counts NAME's visits in the host's
// cache, so a second run says `#2` (one atomic increment, so runs at the same
// time all count). Logs one line through `log`.
// Bindings: `wit-bindgen c wit --world plugin --out-dir gen` (plugin.h).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#define COMMAND "greet-c"

void exports_plugin_metadata(plugin_plugin_info_t *ret) {
    plugin_string_dup(&ret->name, "greet-c");
    plugin_string_dup(&ret->version, "0.1.0");
    plugin_string_dup(&ret->description, "Greets NAME and counts the visits (C)");
    ret->commands.len = 1;
    ret->commands.ptr = calloc(1, sizeof(isaac_plugin_types_command_info_t));
    plugin_string_dup(&ret->commands.ptr[0].name, COMMAND);
    plugin_string_dup(&ret->commands.ptr[0].summary, "Greet NAME and count the visits");
    plugin_string_dup(&ret->commands.ptr[0].usage, "greet-c NAME");
}

// Set `err` to the error `tag` with `message` and report failure.
static bool fail(plugin_error_t *err, uint8_t tag, const char *message) {
    err->tag = tag;
    plugin_string_dup(tag == ISAAC_PLUGIN_TYPES_ERROR_USAGE ? &err->val.usage : &err->val.failed, message);
    return false;
}

static bool run(plugin_string_t *command, plugin_list_string_t *args, plugin_string_t *ret, plugin_error_t *err) {
    if (command->len != strlen(COMMAND) || memcmp(command->ptr, COMMAND, command->len) != 0) {
        return fail(err, ISAAC_PLUGIN_TYPES_ERROR_FAILED, "greet-c has no such command");
    }
    if (args->len != 1) {
        return fail(err, ISAAC_PLUGIN_TYPES_ERROR_USAGE, "usage: greet-c NAME");
    }
    plugin_string_t *name = &args->ptr[0];
    char key[512];
    int key_len = snprintf(key, sizeof key, "visits:%.*s", (int)name->len, (const char *)name->ptr);
    if (key_len < 0 || (size_t)key_len >= sizeof key) {
        return fail(err, ISAAC_PLUGIN_TYPES_ERROR_USAGE, "usage: greet-c NAME (a shorter name)");
    }
    plugin_string_t k = {(uint8_t *)key, (size_t)key_len};
    int64_t visits;
    isaac_plugin_cache_cache_error_t cache_err;
    if (!isaac_plugin_cache_increment(&k, 1, &visits, &cache_err)) {
        isaac_plugin_cache_cache_error_free(&cache_err);
        return fail(err, ISAAC_PLUGIN_TYPES_ERROR_FAILED, "the cache failed (is `cache = true` granted?)");
    }
    char line[600];
    int line_len = snprintf(line, sizeof line, "greeted %.*s (visit #%lld)", (int)name->len, (const char *)name->ptr, (long long)visits);
    plugin_string_t message = {(uint8_t *)line, (size_t)line_len};
    isaac_plugin_log_log(ISAAC_PLUGIN_LOG_LEVEL_INFO, &message);
    int out_len = snprintf(line, sizeof line, "Hello, %.*s! (visit #%lld)", (int)name->len, (const char *)name->ptr, (long long)visits);
    plugin_string_dup_n(ret, line, (size_t)out_len);
    return true;
}

bool exports_plugin_run(plugin_string_t *command, plugin_list_string_t *args, plugin_string_t *ret, plugin_error_t *err) {
    bool ok = run(command, args, ret, err);
    plugin_string_free(command);
    plugin_list_string_free(args);
    return ok;
}
