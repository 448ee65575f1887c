//! Product names are Chinese: every page's CSS names a CJK font stack (Noto / Source Han /
//! PingFang / YaHei, then sans-serif), and the kiosk deploy script installs Debian's Noto CJK.

const STACK: [&str; 5] = [
    "\"Noto Sans CJK SC\"",
    "\"Source Han Sans SC\"",
    "\"PingFang SC\"",
    "\"Microsoft YaHei\"",
    "sans-serif",
];

/// The families of the first `font-family` declaration in `css`, without spaces.
fn families(css: &str) -> Vec<String> {
    let start = css.find("font-family:").expect("a font-family") + "font-family:".len();
    let end = start + css[start..].find(';').expect("the declaration ends");
    css[start..end]
        .split(',')
        .map(|f| f.trim().to_string())
        .collect()
}

fn has_stack_in_order(css: &str, page: &str) {
    let families = families(css);
    let at: Vec<usize> = STACK
        .iter()
        .map(|f| {
            families
                .iter()
                .position(|g| g == f)
                .unwrap_or_else(|| panic!("{page}: no {f} in {families:?}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "{page}: order {families:?}"
    );
    assert_eq!(
        families.last().map(String::as_str),
        Some("sans-serif"),
        "{page}"
    );
}

#[test]
fn the_edge_pages_and_the_resolver_page_name_the_cjk_stack() {
    has_stack_in_order(
        include_str!("../edge/web/common.css"),
        "edge/web/common.css",
    );
    has_stack_in_order(
        &include_str!("../cloud/src/trace/page.rs").replace("{{", "{"),
        "cloud/src/trace/page.rs",
    );
    // Every edge page links the shared sheet.
    for (page, html) in [
        ("dashboard.html", include_str!("../edge/web/dashboard.html")),
        (
            "lane-screen.html",
            include_str!("../edge/web/lane-screen.html"),
        ),
        ("login.html", include_str!("../edge/web/login.html")),
    ] {
        assert!(
            html.contains("common.css"),
            "{page} does not use common.css"
        );
    }
}

#[test]
fn the_kiosk_deploy_script_installs_fonts_noto_cjk() {
    let script = include_str!("../deploy/kiosk/install-kiosk.sh");
    let line = script
        .lines()
        .find(|l| l.trim_start().starts_with("apt-get install"))
        .expect("an apt-get install line");
    assert!(line.contains("fonts-noto-cjk"), "{line}");
}
