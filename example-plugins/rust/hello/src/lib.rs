//! `hello`: the smallest useful isaac plugin. `hello [NAME]` greets, `echo`
//! prints its arguments back exactly as the host passed them.

use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin, log};

struct Hello;

impl Plugin for Hello {
    fn metadata() -> PluginInfo {
        PluginInfo::new("hello", env!("CARGO_PKG_VERSION"), "Greets you and echoes its arguments")
            .command(CommandInfo::new("hello", "Greet someone", "hello [NAME]"))
            .command(CommandInfo::new("echo", "Print the arguments back, one space apart", "echo [ARGS...]"))
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        match command {
            "hello" => match args.as_slice() {
                [] => Ok("Hello, world!".to_owned()),
                [name] => Ok(format!("Hello, {name}!")),
                _ => Err(Error::Usage("usage: hello [NAME] (one name; quote it if it has spaces)".to_owned())),
            },
            "echo" => {
                log::debug(&format!("echoing {} arguments", args.len()));
                Ok(args.join(" "))
            }
            other => Err(Error::Failed(format!("hello has no command `{other}`"))),
        }
    }
}

export_plugin!(Hello);
