// greet-cpp: `greet-cpp NAME` says hello and counts NAME's visits in the
// host's cache, so a second run says `#2` (one atomic increment, so runs at
// the same time all count). Logs one line through `log`.
// Bindings: `wit-bindgen cpp wit --world plugin --out-dir gen` (plugin_cpp.h,
// wit.h): C++23, std::expected for results, wit::string and wit::vector for
// owned strings and lists.

#include <string>

#include "plugin_cpp.h"

namespace cache = isaac::plugin::cache;
namespace log = isaac::plugin::log;
using isaac::plugin::types::CommandInfo;
using isaac::plugin::types::Error;
using isaac::plugin::types::PluginInfo;

static constexpr std::string_view kCommand = "greet-cpp";

PluginInfo exports::plugin::Metadata() {
    auto commands = wit::vector<CommandInfo>::allocate(1);
    commands.initialize(0, CommandInfo{
                               wit::string::from_view(kCommand),
                               wit::string::from_view("Greet NAME and count the visits"),
                               wit::string::from_view("greet-cpp NAME"),
                           });
    return PluginInfo{
        wit::string::from_view("greet-cpp"),
        wit::string::from_view("0.1.0"),
        wit::string::from_view("Greets NAME and counts the visits (C++)"),
        std::move(commands),
    };
}

static std::unexpected<Error> usage(std::string_view message) {
    return std::unexpected(Error{Error::Usage{wit::string::from_view(message)}});
}

static std::unexpected<Error> failed(std::string_view message) {
    return std::unexpected(Error{Error::Failed{wit::string::from_view(message)}});
}

std::expected<wit::string, Error> exports::plugin::Run(wit::string command, wit::vector<wit::string> args) {
    if (command.get_view() != kCommand) {
        return failed("greet-cpp has no command `" + command.to_string() + "`");
    }
    if (args.size() != 1) {
        return usage("usage: greet-cpp NAME");
    }
    std::string name = args[0].to_string();
    auto visits = cache::Increment("visits:" + name, 1);
    if (!visits) {
        return failed("the cache failed (is `cache = true` granted?)");
    }
    std::string count = std::to_string(*visits);
    log::Log(log::Level::kInfo, "greeted " + name + " (visit #" + count + ")");
    return wit::string::from_view("Hello, " + name + "! (visit #" + count + ")");
}
