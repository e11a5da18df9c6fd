//! The SDK carries its own copy of the WIT package; it must equal `wit/`.

use std::path::Path;

#[test]
fn sdk_wit_equals_the_host_wit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let names = |dir: &Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    let host = root.join("wit");
    let sdk = root.join("plugin-sdk/wit");
    assert_eq!(names(&host), names(&sdk), "wit/ and plugin-sdk/wit/ hold different files");
    for name in names(&host) {
        assert_eq!(
            std::fs::read_to_string(host.join(&name)).unwrap(),
            std::fs::read_to_string(sdk.join(&name)).unwrap(),
            "plugin-sdk/wit/{name} differs from wit/{name}: copy wit/ into plugin-sdk/wit/"
        );
    }
}
