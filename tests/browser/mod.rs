//! A real headless Chromium for end-to-end tests, driven over WebDriver: Debian's `chromium`
//! and `chromium-driver` (apt; `.ci/run` installs them). `chromedriver` runs as a child process
//! on a free port and Chromium gets the flags this closed network needs (no background
//! networking, no component updates, a fresh profile).
//!
//! The client is the handful of W3C WebDriver commands the tests use, over `reqwest`.
#![allow(dead_code)]

pub mod phone;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Process, free_port, wait_for_port};

/// The W3C name of an element reference in WebDriver JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=en-US",
];

fn find_program(candidates: &[&str], install: &str) -> String {
    candidates
        .iter()
        .find(|p| Path::new(p).exists())
        .map(|p| p.to_string())
        .unwrap_or_else(|| {
            panic!(
                "{} is not installed: apt-get install {install} (.ci/run does)",
                candidates[0]
            )
        })
}

/// A WebDriver command that failed.
#[derive(Debug)]
pub struct WebDriverError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

/// One browser window, closed (with its driver) when dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    base: String,
    _driver: Process,
    _profile: tempfile::TempDir,
}

/// An element found on the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium with a `width`×`height` window; logs go to
    /// `dir`.
    pub async fn start(dir: &Path, width: u32, height: u32) -> Browser {
        Browser::start_with(dir, width, height, None, Vec::new()).await
    }

    /// A phone: a `width`×`height` CSS-pixel viewport at device pixel ratio 2, with touch
    /// (Chromium's mobile emulation; a desktop window cannot be narrower than about 500 px).
    pub async fn start_phone(dir: &Path, width: u32, height: u32) -> Browser {
        Browser::start_phone_with_camera(dir, width, height, None).await
    }

    /// [`Browser::start_phone`] whose camera films `y4m` (a Y4M video, looped) and may be used
    /// without asking.
    pub async fn start_phone_with_camera(
        dir: &Path,
        width: u32,
        height: u32,
        y4m: Option<&Path>,
    ) -> Browser {
        let metrics = json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "touch": true } });
        let camera = y4m.map(|file| {
            vec![
                "--use-fake-ui-for-media-stream".to_string(),
                "--use-fake-device-for-media-stream".to_string(),
                format!("--use-file-for-fake-video-capture={}", file.display()),
            ]
        });
        Browser::start_with(
            dir,
            width.max(500),
            height + 200,
            Some(metrics),
            camera.unwrap_or_default(),
        )
        .await
    }

    async fn start_with(
        dir: &Path,
        width: u32,
        height: u32,
        mobile: Option<Value>,
        extra_args: Vec<String>,
    ) -> Browser {
        let chromium = find_program(
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
            "chromium",
        );
        let chromedriver = find_program(&["/usr/bin/chromedriver"], "chromium-driver");
        let port = free_port();
        let driver = Process::spawn(
            "chromedriver",
            &chromedriver,
            &[&format!("--port={port}")],
            dir,
        );
        wait_for_port(port, "chromedriver", Some(&driver)).await;
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        args.extend(extra_args);
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let mut options = json!({ "binary": chromium, "args": args });
        if let Some(mobile) = mobile {
            options["mobileEmulation"] = mobile;
        }
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "timeouts": { "implicit": 0, "pageLoad": 30000, "script": 30000 },
            }}
        });
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("chromedriver answers JSON");
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "chromedriver could not start Chromium: {response}\n{}",
                    driver.log()
                )
            })
            .to_string();
        Browser {
            http,
            session,
            base,
            _driver: driver,
            _profile: profile,
        }
    }

    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| WebDriverError {
            status: 0,
            error: "transport".into(),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(value["value"].clone())
        } else {
            Err(WebDriverError {
                status,
                error: value["value"]["error"].as_str().unwrap_or_default().into(),
                message: value["value"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            })
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WebDriverError> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, WebDriverError> {
        self.command(reqwest::Method::GET, path, None).await
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e:?}"));
    }

    /// The current page's URL.
    pub async fn url(&self) -> String {
        self.get("/url")
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        match self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await
        {
            Ok(value) => value[ELEMENT].as_str().map(|id| Element(id.to_string())),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("cannot look for {css:?}: {e:?}"),
        }
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(element) = self.find(css).await {
                return element;
            }
            if Instant::now() > deadline {
                panic!(
                    "no element {css:?} on {} within {timeout:?}; the page shows:\n{}",
                    self.url().await,
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element matching `css` (waiting for it up to 10 s).
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css, Duration::from_secs(10)).await;
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await
            .unwrap_or_else(|e| panic!("cannot click {css:?}: {e:?}"));
    }

    /// Types `text` into the element matching `css`, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css, Duration::from_secs(10)).await;
        let _ = self
            .post(&format!("/element/{}/clear", element.0), json!({}))
            .await;
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await
        .unwrap_or_else(|e| panic!("cannot type into {css:?}: {e:?}"));
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css, Duration::from_secs(10)).await;
        self.get(&format!("/element/{}/text", element.0))
            .await
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    /// The whole page's visible text (for failure messages).
    pub async fn page_text(&self) -> String {
        self.eval(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its
    /// value. An async body may `return` a promise.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
            .unwrap_or_else(|e| panic!("script failed: {e:?}\n{script}"))
    }

    /// Polls `script` until it returns something truthy (not null, false, 0 or ""), or panics
    /// after `timeout` with the page's text.
    pub async fn wait_until(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(script, json!([])).await;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what} on {}; the page shows:\n{}",
                    self.url().await,
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let data = self.get("/screenshot").await.expect("a screenshot");
        let png = data_encoding::BASE64
            .decode(data.as_str().unwrap_or_default().as_bytes())
            .expect("a base64 PNG");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// Runs a Chrome DevTools Protocol command (e.g. `Emulation.setGeolocationOverride`).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd} failed: {e:?}"))
    }

    /// Saves a PNG of the element matching `css` (as the page draws it) to `path`.
    pub async fn element_screenshot(&self, css: &str, path: &Path) {
        let element = self.wait_for(css, Duration::from_secs(10)).await;
        let data = self
            .get(&format!("/element/{}/screenshot", element.0))
            .await
            .expect("an element screenshot");
        let png = data_encoding::BASE64
            .decode(data.as_str().unwrap_or_default().as_bytes())
            .expect("a base64 PNG");
        std::fs::write(path, png).unwrap();
    }

    /// Resizes the window.
    pub async fn resize(&self, width: u32, height: u32) {
        let _ = self
            .post("/window/rect", json!({ "width": width, "height": height }))
            .await;
    }

    /// Logs in on the login page at `base_url` and waits for the dashboard.
    pub async fn log_in(&self, base_url: &str, name: &str, password: &str) {
        self.goto(&format!("{base_url}/")).await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("#login-submit").await;
        self.wait_for(
            &format!("body[data-operator=\"{name}\"]"),
            Duration::from_secs(20),
        )
        .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Close the window so Chromium exits before its driver is killed.
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(5),
                        reqwest::Client::new().delete(url).send(),
                    )
                    .await;
                });
            }
        })
        .join();
    }
}

/// Where screenshots for the docs go: `docs/` of the repository.
pub fn docs_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name)
}

/// `[[operator]]` tables for the edge's config: `attendant`/`attendant-pw` and
/// `manager`/`manager-pw`.
pub fn operators_toml() -> String {
    [("attendant", "attendant"), ("manager", "manager")]
        .iter()
        .map(|(name, role)| {
            format!(
                "\n[[operator]]\nname = \"{name}\"\nrole = \"{role}\"\npassword_hash = \"{}\"\n",
                omo_edge::web::hash_password(&format!("{name}-pw"))
            )
        })
        .collect()
}
