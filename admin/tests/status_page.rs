//! The status page in a real browser: headless Chromium (Debian's package, which ./test.sh
//! installs and names in `FIXGATE_CHROMIUM`) loads `/` while sessions are logged on, runs its
//! JavaScript, and the test reads each session's row in the rendered page. Screenshots, desktop
//! and phone, are kept in `target/artefacts/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Counterparty, Rig};
use fixgate_core::SessionId;

/// The browser, or `None` (after saying why) where a developer has none; under `CI=true` a
/// missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    let named = std::env::var_os("FIXGATE_CHROMIUM").map(PathBuf::from);
    let found = named.or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Chromium under CI=true: ./test.sh installs it (Debian's chromium) and sets \
             FIXGATE_CHROMIUM"
        );
        eprintln!("skipping: no Chromium (./test.sh installs Debian's chromium)");
    }
    found
}

/// Runs headless Chromium on `url` with `args`, its JavaScript given a few seconds of virtual
/// time; returns its stdout.
fn browse(browser: &Path, url: &str, args: &[&str]) -> String {
    let profile = tempfile_dir();
    // A browser that hangs fails the test after two minutes instead of hanging it.
    let output = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ])
        .args([
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=4000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("run Chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        output.status.success(),
        "Chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A fresh folder for Chromium's profile.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fixgate-chromium-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The text of the table row whose id is `session-<id>`, its tags stripped.
fn row_text(dom: &str, id: &str) -> Option<String> {
    // Chromium writes `>` in attributes as `&gt;`.
    let id_at = dom.find(&format!("id=\"session-{}\"", id.replace('>', "&gt;")))?;
    let start = dom[..id_at].rfind("<tr")?;
    let end = start + dom[start..].find("</tr>")?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in dom[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.replace("&gt;", ">").replace("&amp;", "&");
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_a_row_per_session_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let ids = [
        SessionId::new("ISLD", "CLIENT"),
        SessionId::new("ISLD", "BROKER2"),
        SessionId::new("ISLD", "VENUE3"),
    ];
    let rig = Rig::start_with(&ids).await;
    let mut client = Counterparty::log_on(&rig).await;
    for n in 0..3 {
        client
            .send("D", &format!("11=O{n}|55=X|54=1|38=1|40=1|"))
            .await;
        client.expect("8").await;
    }
    let _broker = Counterparty::log_on_as(rig.fix, "BROKER2", "ISLD", 1).await;

    let url = format!("http://{}/", rig.admin);
    let dom = tokio::task::spawn_blocking({
        let (browser, url) = (browser.clone(), url.clone());
        move || browse(&browser, &url, &["--dump-dom"])
    })
    .await
    .unwrap();
    let client_row = row_text(&dom, "ISLD->CLIENT").unwrap_or_else(|| panic!("no row: {dom}"));
    assert!(
        client_row.starts_with("ISLD->CLIENT active CLIENT (connected)"),
        "{client_row}"
    );
    // Next out and in, then app messages in / out.
    assert!(client_row.contains(" 5 5 "), "{client_row}");
    assert!(client_row.contains("3 / 3"), "{client_row}");
    let broker_row = row_text(&dom, "ISLD->BROKER2").unwrap();
    assert!(
        broker_row.starts_with("ISLD->BROKER2 active BROKER2 (connected)"),
        "{broker_row}"
    );
    let venue_row = row_text(&dom, "ISLD->VENUE3").unwrap();
    assert!(
        venue_row.starts_with("ISLD->VENUE3 wait for logon VENUE3 "),
        "{venue_row}"
    );
    assert!(
        dom.contains("3 sessions (2 active, 1 wait for logon)"),
        "{dom}"
    );

    // Screenshots for people: a desktop window and a phone's.
    let artefacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    for (name, size) in [
        ("status-page.png", "1280,400"),
        ("status-page-phone.png", "390,844"),
    ] {
        let path = artefacts.join(name);
        let _ = std::fs::remove_file(&path);
        let args = [
            format!("--screenshot={}", path.display()),
            format!("--window-size={size}"),
        ];
        let (browser, url) = (browser.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            browse(
                &browser,
                &url,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        })
        .await
        .unwrap();
        let png = std::fs::read(&path).expect("the screenshot");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{name}"
        );
    }
}
