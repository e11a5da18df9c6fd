//! greet-zig: `greet-zig NAME` says hello and counts NAME's visits in the
//! host's cache, so a second run says `#2` (one atomic increment, so runs at
//! the same time all count). Logs one line through `log`.
//! Bindings: the C ones (`wit-bindgen c wit --world plugin`: plugin.h and
//! plugin.c), plugin.h turned into `c.zig` by `zig translate-c`; zig
//! compiles plugin.c with this file (see toolchains.sh, `build_zig`).

const std = @import("std");
const c = @import("c.zig");

const command_name = "greet-zig";
const usage_error = c.ISAAC_PLUGIN_TYPES_ERROR_USAGE;
const failed_error = c.ISAAC_PLUGIN_TYPES_ERROR_FAILED;

export fn exports_plugin_metadata(ret: *c.plugin_plugin_info_t) void {
    c.plugin_string_dup(&ret.name, command_name);
    c.plugin_string_dup(&ret.version, "0.1.0");
    c.plugin_string_dup(&ret.description, "Greets NAME and counts the visits (Zig)");
    const info: [*c]c.isaac_plugin_types_command_info_t = @ptrCast(@alignCast(c.calloc(1, @sizeOf(c.isaac_plugin_types_command_info_t))));
    c.plugin_string_dup(&info[0].name, command_name);
    c.plugin_string_dup(&info[0].summary, "Greet NAME and count the visits");
    c.plugin_string_dup(&info[0].usage, "greet-zig NAME");
    ret.commands.ptr = info;
    ret.commands.len = 1;
}

/// Set `err` to the error `tag` with `message` and report failure.
fn fail(err: *c.plugin_error_t, tag: u8, message: [*:0]const u8) bool {
    err.tag = tag;
    if (tag == usage_error) c.plugin_string_dup(&err.val.usage, message) else c.plugin_string_dup(&err.val.failed, message);
    return false;
}

fn run(command: *c.plugin_string_t, args: *c.plugin_list_string_t, ret: *c.plugin_string_t, err: *c.plugin_error_t) bool {
    if (!std.mem.eql(u8, command.ptr[0..command.len], command_name)) {
        return fail(err, failed_error, "greet-zig has no such command");
    }
    if (args.len != 1) return fail(err, usage_error, "usage: greet-zig NAME");
    const name = args.ptr[0].ptr[0..args.ptr[0].len];
    var key_buf: [512]u8 = undefined;
    const key = std.fmt.bufPrint(&key_buf, "visits:{s}", .{name}) catch
        return fail(err, usage_error, "usage: greet-zig NAME (a shorter name)");
    var k = c.plugin_string_t{ .ptr = key.ptr, .len = key.len };
    var visits: i64 = 0;
    var cache_err: c.isaac_plugin_cache_cache_error_t = undefined;
    if (!c.isaac_plugin_cache_increment(&k, 1, &visits, &cache_err)) {
        c.isaac_plugin_cache_cache_error_free(&cache_err);
        return fail(err, failed_error, "the cache failed (is `cache = true` granted?)");
    }
    var line_buf: [600]u8 = undefined;
    const line = std.fmt.bufPrint(&line_buf, "greeted {s} (visit #{d})", .{ name, visits }) catch
        return fail(err, failed_error, "the name is too long");
    var message = c.plugin_string_t{ .ptr = line.ptr, .len = line.len };
    c.isaac_plugin_log_log(c.ISAAC_PLUGIN_LOG_LEVEL_INFO, &message);
    const out = std.fmt.bufPrint(&line_buf, "Hello, {s}! (visit #{d})", .{ name, visits }) catch
        return fail(err, failed_error, "the name is too long");
    c.plugin_string_dup_n(ret, out.ptr, out.len);
    return true;
}

export fn exports_plugin_run(command: *c.plugin_string_t, args: *c.plugin_list_string_t, ret: *c.plugin_string_t, err: *c.plugin_error_t) bool {
    const ok = run(command, args, ret, err);
    c.plugin_string_free(command);
    c.plugin_list_string_free(args);
    return ok;
}
